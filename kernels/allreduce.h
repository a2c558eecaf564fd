// Summing a buffer across the ranks of a data-parallel job. The training step calls Sum between
// its backward pass and its update; which transport runs underneath (none, MPI, NCCL within a
// node and MPI across nodes) is the implementation's business.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace corral::kernels {

class Allreduce {
 public:
  virtual ~Allreduce() = default;
  // Replaces data[0..count) on every rank by its sum over all ranks. `on_device` says data is
  // GPU memory. Errors from the transport come back as Internal or Unavailable.
  virtual Status Sum(float* data, int64_t count, bool on_device) = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // For logs: "single process", "mpi (4 ranks)", "nccl (2 per node) + mpi (2 nodes)".
  virtual std::string Describe() const = 0;
};

// One process: Sum leaves the data as it is.
std::unique_ptr<Allreduce> MakeSingleProcessAllreduce();

}  // namespace corral::kernels
