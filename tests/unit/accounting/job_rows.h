// Sample JobRecords for the accounting tests: every field distinct and derived from one number.
#pragma once

#include <string>
#include <vector>

#include "accounting/job_record.h"

namespace corral::testing {

inline JobRecord SampleJob(int64_t i) {
  JobRecord r;
  r.job_id = 1000 + i;
  r.name = "train-" + std::to_string(i);
  r.user = "user" + std::to_string(i % 7);
  r.account = "acct" + std::to_string(i % 3);
  r.partition = i % 2 == 0 ? "gpu" : "cpu";
  r.nodelist = "n[" + std::to_string(i) + "-" + std::to_string(i + 3) + "]";
  r.gpu_models = i % 2 == 0 ? "h100" : "";
  r.state = i % 5 == 0 ? "FAILED" : "COMPLETED";
  r.nnodes = static_cast<int32_t>(1 + i % 4);
  r.ncpus = static_cast<int32_t>(8 * (1 + i % 4));
  r.ngpus = static_cast<int32_t>(i % 2 == 0 ? 4 : 0);
  r.exit_code = static_cast<int32_t>(i % 5 == 0 ? 1 : 0);
  r.submit_ms = 1'700'000'000'000 + i * 1000;
  r.start_ms = r.submit_ms + 500;
  r.end_ms = r.start_ms + 60'000 + i;
  r.cpu_ms = r.ncpus * (r.end_ms - r.start_ms);
  r.gpu_ms = r.ngpus * (r.end_ms - r.start_ms);
  r.energy_mj = 123'456 + i;
  r.cost_micro = 7'000'000 + i;
  return r;
}

inline std::vector<JobRecord> SampleJobs(int64_t first, int64_t count) {
  std::vector<JobRecord> rows;
  for (int64_t i = first; i < first + count; ++i) rows.push_back(SampleJob(i));
  return rows;
}

}  // namespace corral::testing
