// One step of a job (a process that `corral run`, `mpirun` through corral-rsh or a `corral
// exec` started inside the job) that ended, as a row of the /steps table: one row per step
// per node, as corral-node ran and measured it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/job.h"
#include "common/time.h"

namespace corral {

inline constexpr size_t kStepNodeBytes = 64;
inline constexpr size_t kStepNameBytes = 128;  // the command line, cut to fit
inline constexpr size_t kStepStateBytes = 24;

struct StepRecord {
  JobId job_id = 0;
  int64_t step_id = 0;
  std::string node, name;
  std::string state;      // COMPLETED, FAILED (non-zero exit), CANCELLED (killed by a signal)
  int32_t exit_code = 0;  // 128 + N when signal N ended it
  int32_t restarts = 0;   // the job's run it belonged to
  TimeMs start_ms = 0, end_ms = 0;
  int64_t cpu_used_ms = 0, max_rss_bytes = 0;  // its processes' CPU time and largest RSS

  bool operator==(const StepRecord&) const = default;
};

}  // namespace corral
