// One finished job as a row of the /jobs table in the accounting HDF5 file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/job.h"
#include "common/time.h"

namespace corral {

// Column widths in bytes. A longer string is cut to fit, at a UTF-8 character boundary, so
// that a reader always gets valid UTF-8 back when valid UTF-8 went in.
inline constexpr size_t kJobNameBytes = 128;
inline constexpr size_t kJobUserBytes = 64;
inline constexpr size_t kJobAccountBytes = 64;
inline constexpr size_t kJobPartitionBytes = 64;
inline constexpr size_t kJobStateBytes = 24;
inline constexpr size_t kJobNodelistBytes = 512;
inline constexpr size_t kJobGpuModelsBytes = 128;

// One finished job, as a row of the /jobs table. Strings longer than their column are truncated.
struct JobRecord {
  JobId job_id = 0;
  std::string name, user, account, partition, nodelist, gpu_models,
      state;  // state e.g. "COMPLETED"
  int32_t nnodes = 0, ncpus = 0, ngpus = 0, exit_code = 0;
  TimeMs submit_ms = 0, start_ms = 0, end_ms = 0;
  int64_t cpu_ms = 0, gpu_ms = 0;  // allocated CPUs x elapsed, allocated GPUs x elapsed
  int64_t energy_mj = 0, cost_micro = 0;

  bool operator==(const JobRecord&) const = default;
};

}  // namespace corral
