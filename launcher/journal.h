// corral-node's job journal: what this node must not forget across its own restart. One small
// file per job under DIR (a NodeJournalEntry): written before the job starts, rewritten with its
// end when it ends, removed once the controller has acknowledged that end. A file is replaced
// by rename, so a kill -9 at any moment leaves either the old entry or the new one. Files are
// not fsync'ed: they survive the process, not a power cut (which takes the jobs with it).
// Thread-safe: each call touches only its job's file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "fabric/proto/corral.pb.h"

namespace corral {

class JobJournal {
 public:
  // Uses DIR (created if missing, with its parents). Fails naming DIR if it cannot be created.
  static Result<JobJournal> Open(const std::string& dir);

  // Every entry in DIR, in job id order. An unreadable or truncated file is reported in
  // `skipped` (its path and why) and removed: it cannot name a job to recover.
  std::vector<v1::NodeJournalEntry> Load(std::vector<std::string>* skipped = nullptr) const;

  // Writes (or replaces) the entry of entry.job_id().
  Status Put(const v1::NodeJournalEntry& entry) const;
  // Removes the entry of `job_id`; nothing if there is none.
  void Remove(int64_t job_id) const;

  const std::string& dir() const { return dir_; }

 private:
  explicit JobJournal(std::string dir) : dir_(std::move(dir)) {}
  std::string PathOf(int64_t job_id) const;
  std::string dir_;
};

}  // namespace corral
