// A thin NCCL communicator: sums and broadcasts of float buffers in GPU memory among the ranks of
// one node. Built only when NCCL is found (CORRAL_HAVE_NCCL); ranks exchange the unique id by
// other means (MPI in mpi_allreduce.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace corral::kernels {

class NcclComm {
 public:
  // A fresh id (NCCL_UNIQUE_ID_BYTES bytes), made by one rank and given to all.
  static Result<std::string> NewUniqueId();

  // Joins communicator `id` as `rank` of `nranks` on the current GPU. Blocks until every rank
  // has joined. Internal with NCCL's message on failure.
  static Result<std::unique_ptr<NcclComm>> Create(const std::string& id, int nranks, int rank);

  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  // In-place sum over the communicator; returns when the result is in place.
  Status AllreduceSum(float* device_data, int64_t count);
  // In-place broadcast from `root`; returns when done.
  Status Broadcast(float* device_data, int64_t count, int root);

  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  NcclComm() = default;
  void* comm_ = nullptr;  // ncclComm_t
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace corral::kernels
