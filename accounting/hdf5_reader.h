// A read-only view of an accounting file for another process, such as the web explorer, that
// reads while corrald's AccountingWriter appends (HDF5 SWMR read). See hdf5_writer.h for the
// layout; a table written by an older version reads with its missing columns as 0 or "".
// Not thread-safe: use one reader per thread, or serialize calls.
//
// HDF5 keeps one open file per process. In the writer's own process, a reader works only if
// opened after the writer, and a writer cannot open a file this process already reads; there,
// use AccountingWriter::ReadAll instead. A forked child inherits its parent's open files.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "accounting/job_record.h"
#include "accounting/step_record.h"
#include "accounting/usage_sample.h"
#include "common/status.h"

namespace corral {

class AccountingReader {
 public:
  // Opens `path` with H5F_ACC_SWMR_READ. Fails, naming the path and the reason, with NotFound
  // if it does not exist, Invalid if it is a directory, not an HDF5 file or has no job table,
  // and Internal if HDF5 fails, which includes the moment a writer is opening the file and the
  // time after a writer died there, until the next writer has opened it: retry later.
  static Result<std::unique_ptr<AccountingReader>> Open(const std::string& path);

  ~AccountingReader();
  AccountingReader(const AccountingReader&) = delete;
  AccountingReader& operator=(const AccountingReader&) = delete;

  // Refreshes /jobs, then returns every row in append order, including rows that the writer
  // appended (and flushed) after this reader was opened.
  Result<std::vector<JobRecord>> ReadAll();
  // The same for /steps (of the jobs in `jobs`; empty: every job's) and /usage (of the jobs in
  // `jobs`). A file written before these tables existed has none: the answer is empty.
  Result<std::vector<StepRecord>> ReadSteps(const std::set<JobId>& jobs = {});
  Result<std::vector<UsageSample>> ReadUsage(const std::set<JobId>& jobs);

  const std::string& path() const { return path_; }

 private:
  struct State;
  AccountingReader(std::string path, std::unique_ptr<State> state);

  std::string path_;
  std::unique_ptr<State> state_;
};

}  // namespace corral
