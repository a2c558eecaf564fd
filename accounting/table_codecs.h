// Internal to accounting/: the Codec (h5_table.h) of each table of the accounting file.
#pragma once

#include <cstddef>

#include "accounting/h5_table.h"
#include "accounting/job_record.h"
#include "accounting/step_record.h"
#include "accounting/usage_sample.h"

namespace corral::acct_internal {

// /jobs: one row per finished job or array task (job_record_h5.cc).
struct JobTable {
  using Record = JobRecord;
  static constexpr char kPath[] = "/jobs";
  static constexpr char kKey[] = "job_id";
  static size_t RowBytes();
  static Hid Type();
  static void Encode(const Record& r, std::byte* row);
  static Record Decode(const std::byte* row);
};

// /steps: one row per step per node that ended (step_record_h5.cc).
struct StepTable {
  using Record = StepRecord;
  static constexpr char kPath[] = "/steps";
  static constexpr char kKey[] = "step_id";
  static size_t RowBytes();
  static Hid Type();
  static void Encode(const Record& r, std::byte* row);
  static Record Decode(const std::byte* row);
};

// /usage: usage samples of running jobs, in arrival order (usage_sample_h5.cc).
struct UsageTable {
  using Record = UsageSample;
  static constexpr char kPath[] = "/usage";
  static constexpr char kKey[] = "sampled_ms";
  static size_t RowBytes();
  static Hid Type();
  static void Encode(const Record& r, std::byte* row);
  static Record Decode(const std::byte* row);
};

}  // namespace corral::acct_internal
