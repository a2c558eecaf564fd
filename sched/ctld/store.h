// The controller's durable state in SQLite (WAL mode): jobs, arrays and registered nodes.
// Only the writer thread uses a Store. Every change is made inside Begin()/Commit(), and a
// command is acknowledged only after its Commit() returned ok.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/node.h"
#include "common/status.h"
#include "sched/ctld/job_array.h"
#include "sched/ctld/job_record.h"

namespace corral::ctld {

class Store {
 public:
  // Opens or creates `dir`/corral.db. Fails naming the path when the directory is missing,
  // unwritable, or the file is not a Corral database.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir);
  ~Store();

  Status Begin();
  Status Commit();
  void Rollback();

  // Inserts or replaces the whole row for `job`.
  Status PutJob(const Job& job);
  Status PutNode(const NodeProfile& node, TimeMs last_seen_ms);
  // An array's row: its template (the rest's state) and indices. Which tasks have a Job of
  // their own is not stored: those are the jobs rows in [first, last].
  Status PutArray(const JobArray& a);
  // Every array, every task without a Job of its own (the caller marks those with a row).
  Result<std::vector<JobArray>> LoadArrays();
  // A job's payload: spec's script, env and args, encoded. Equal payloads encode equally.
  static std::string EncodePayload(const JobSpec& spec);
  // Stores an encoded payload under `id`; GetPayload fills it back into *spec.
  Status PutPayload(JobId id, const std::string& payload);
  Status GetPayload(JobId id, JobSpec* spec);
  Result<std::vector<Job>> LoadJobs();
  Result<std::vector<NodeProfile>> LoadNodes();
  // Admin objects (QOS today; accounts, partitions, reservations later): one encoded row per
  // (kind, name).
  Status PutAdmin(const std::string& kind, const std::string& name, const std::string& bytes);
  Status DeleteAdmin(const std::string& kind, const std::string& name);
  Result<std::vector<std::pair<std::string, std::string>>> LoadAdmin(const std::string& kind);
  // The largest job id ever stored or held by an array (0 when none), so ids are never reused.
  Result<JobId> MaxJobId();

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql);
  Status Prepare();
  sqlite3* db_;
  sqlite3_stmt* put_job_ = nullptr;
  sqlite3_stmt* put_payload_ = nullptr;
  sqlite3_stmt* get_payload_ = nullptr;
  sqlite3_stmt* put_node_ = nullptr;
  sqlite3_stmt* put_array_ = nullptr;
};

}  // namespace corral::ctld
