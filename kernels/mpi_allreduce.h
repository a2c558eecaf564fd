// Allreduce across MPI ranks, for data-parallel training (library corral_kernels_dist).
//
// Host buffers go through MPI_Allreduce. GPU buffers, when NCCL is available, take the
// hierarchical path: NCCL sums among the ranks of each node (MPI_COMM_TYPE_SHARED), one leader
// per node sums across nodes with MPI, and NCCL broadcasts the result back within the node.
// Without NCCL, GPU buffers are staged through host memory.
#pragma once

#include <mpi.h>

#include <memory>

#include "common/status.h"
#include "kernels/allreduce.h"

namespace corral::kernels {

// Collective over `comm`: every rank calls it, after MPI_Init and, when gpu is true, after
// selecting its GPU (see LocalRank). Errors: Internal with the MPI or NCCL message.
Result<std::unique_ptr<Allreduce>> MakeMpiAllreduce(MPI_Comm comm, bool gpu);

// This rank's index among the ranks of `comm` on the same node (collective).
int LocalRank(MPI_Comm comm);

}  // namespace corral::kernels
