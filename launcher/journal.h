// corral-node's job journal: what this node must not forget across its own restart. An
// append-only log, DIR/journal, of NodeJournalEntry records (each preceded by its length): one
// written before a job starts, one when it ends, one to forget it once the controller has
// acknowledged that end. A record is one write() to a file opened O_APPEND, so a kill -9 leaves
// whole records and at most a torn last one, which Load drops. The live entries are rewritten
// to a fresh log (by rename) at Load and whenever forgotten records outnumber them. Records are
// not fsync'ed: they survive the process, not a power cut (which takes the jobs with it).
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "fabric/proto/corral.pb.h"

namespace corral {

class JobJournal {
 public:
  // Uses DIR (created if missing, with its parents). Fails naming DIR if it cannot be created
  // or its log cannot be opened.
  static Result<std::unique_ptr<JobJournal>> Open(const std::string& dir);
  ~JobJournal();

  // The live entries (the latest record of each job not forgotten), in job id order, and
  // compacts the log to them. A torn or malformed record ends the replay there; what was
  // dropped is described in `skipped`.
  std::vector<v1::NodeJournalEntry> Load(std::vector<std::string>* skipped = nullptr);

  // Records (or replaces) the entry of entry.job_id().
  Status Put(const v1::NodeJournalEntry& entry);
  // Forgets the entry of `job_id`; nothing if there is none.
  void Remove(int64_t job_id);

  const std::string& dir() const { return dir_; }

 private:
  JobJournal(std::string dir, int fd) : dir_(std::move(dir)), fd_(fd) {}
  Status Append(const std::string& record);
  // Rewrites the log to hold only `live_` (under mu_).
  Status Compact();
  std::string dir_;
  std::mutex mu_;
  int fd_;
  std::map<int64_t, std::string> live_;  // job id -> its latest record, encoded
  size_t records_ = 0;                   // in the log now
};

}  // namespace corral
