// One sample of a running job's usage on one node, as a row of the /usage table. corral-node
// samples each job's cgroup (and NVML for its GPUs) every few seconds; corrald writes what
// reaches it. A job's series is its rows in time order (rows are appended as they arrive).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/job.h"
#include "common/time.h"

namespace corral {

inline constexpr size_t kUsageNodeBytes = 64;

struct UsageSample {
  JobId job_id = 0;
  std::string node;
  int32_t restarts = 0;
  int32_t gpu_util_pct = 0;  // mean utilisation of its GPUs there over the last interval
  TimeMs sampled_ms = 0;
  int64_t cpu_ms = 0;         // CPU time of its processes there so far
  int64_t rss_bytes = 0;      // memory they hold now
  int64_t gpu_mem_bytes = 0;  // memory used on its GPUs there
  int64_t gpu_power_mw = 0;   // their power draw now
  int64_t energy_mj = 0;      // energy of its GPUs there since it started

  bool operator==(const UsageSample&) const = default;
};

}  // namespace corral
