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
inline constexpr size_t kJobQosBytes = 64;

// One finished job, as a row of the /jobs table. Strings longer than their column are truncated.
struct JobRecord {
  JobId job_id = 0;
  std::string name, user, account, partition, qos, nodelist, gpu_models,
      state;  // state e.g. "COMPLETED"
  int32_t nnodes = 0, ncpus = 0, ngpus = 0;
  int32_t exit_code = 0;  // 128 + N when signal N ended it (Slurm prints 0:N)
  int32_t restarts = 0;   // times it went back to the queue after its node was lost
  TimeMs submit_ms = 0, eligible_ms = 0, start_ms = 0, end_ms = 0;
  int64_t cpu_ms = 0, gpu_ms = 0;  // allocated CPUs x elapsed, allocated GPUs x elapsed
  // What its processes used, as its nodes measured it (0 where a node does not contain jobs):
  // CPU time, the largest memory held on one node, the energy of its GPUs.
  int64_t cpu_used_ms = 0, max_rss_bytes = 0, energy_mj = 0;
  int64_t cost_micro = 0;

  bool operator==(const JobRecord&) const = default;
};

}  // namespace corral
