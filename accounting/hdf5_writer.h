// The accounting file's one writer. corrald appends a row to /jobs for each finished job and
// serves its acct RPC from the same handle. While an AccountingWriter lives, the file is in
// SWMR write mode, so AccountingReaders in other processes read it at the same time.
//
// File layout (HDF5, latest format), each table a 1-D extendible chunked dataset of compound
// rows (h5_table.h): /jobs (JobRecord), /steps (StepRecord), /usage (UsageSample: every job's
// samples in one table, since HDF5 1.10 cannot create a dataset per job in SWMR write mode);
// /nodes and /settlements, groups that hold nothing yet. Every dataset is created in Open,
// before SWMR starts.
//
// Thread safety: the methods may be called from any thread; they are serialized.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "accounting/job_record.h"
#include "accounting/step_record.h"
#include "accounting/usage_sample.h"
#include "common/status.h"

namespace corral {

// What one Append writes.
struct AccountingBatch {
  std::vector<JobRecord> jobs;
  std::vector<StepRecord> steps;
  std::vector<UsageSample> usage;
  bool empty() const { return jobs.empty() && steps.empty() && usage.empty(); }
};

class AccountingWriter {
 public:
  // Creates `path`, or opens the accounting file there and creates any part of the layout it
  // lacks, then starts SWMR write mode. A SWMR-write flag left by a writer that died without
  // closing (kill -9) is cleared, as `h5clear -s` would; rows it had flushed are kept. This is
  // safe because Open first takes an exclusive lock that the kernel drops when its holder dies.
  // Fails, naming the path and the reason, and without changing an existing file, with:
  //   NotFound          the directory of `path` does not exist;
  //   Invalid           `path` is a directory, not an HDF5 file, or one of its tables is not
  //                     a table of that kind;
  //   Unavailable       another writer (in any process, this one included) has the file open;
  //   PermissionDenied  the file or directory is not writable;
  //   Internal          HDF5 failed (the message carries its reason).
  static Result<std::unique_ptr<AccountingWriter>> Open(const std::string& path);

  // Closes the file (see Close); a failure is logged.
  ~AccountingWriter();
  AccountingWriter(const AccountingWriter&) = delete;
  AccountingWriter& operator=(const AccountingWriter&) = delete;

  // Appends the batch's rows to their tables and flushes them: readers see them after their
  // next refresh, and they survive the writer process dying (not the machine: no fsync). All
  // or nothing: on failure every table keeps its previous rows only. Strings too long are
  // truncated.
  Status Append(const AccountingBatch& batch);
  Status Append(const std::vector<JobRecord>& rows);  // job rows only

  // Every row of /jobs, in append order.
  Result<std::vector<JobRecord>> ReadAll() const;
  // The rows of /steps of the jobs in `jobs` (empty: every job's), in append order; one pass
  // over the table whatever the number of jobs.
  Result<std::vector<StepRecord>> ReadSteps(const std::set<JobId>& jobs = {}) const;
  // The rows of /usage of the jobs in `jobs`, in append order; one pass over the table.
  Result<std::vector<UsageSample>> ReadUsage(const std::set<JobId>& jobs) const;

  // Number of rows in /jobs, /steps and /usage.
  int64_t size() const;
  int64_t steps() const;
  int64_t samples() const;

  const std::string& path() const { return path_; }

  // Flushes and closes the file, ending SWMR write mode and releasing the writer lock.
  // Later calls to other methods fail with FailedPrecondition. Idempotent.
  Status Close();

 private:
  struct State;
  explicit AccountingWriter(std::string path, std::unique_ptr<State> state);

  std::string path_;
  std::unique_ptr<State> state_;
};

}  // namespace corral
