#include "sched/ctld/store.h"

#include <sys/stat.h>

#include "fabric/convert.h"

namespace corral::ctld {

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY,
  state INTEGER NOT NULL,
  reason TEXT NOT NULL,
  submit_ms INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  exit_code INTEGER NOT NULL,
  accounted INTEGER NOT NULL,
  spec BLOB NOT NULL,
  alloc BLOB NOT NULL,
  payload_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS arrays(
  first INTEGER PRIMARY KEY,
  last INTEGER NOT NULL,
  state INTEGER NOT NULL,
  reason TEXT NOT NULL,
  submit_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  accounted INTEGER NOT NULL,
  spec BLOB NOT NULL,
  payload_id INTEGER NOT NULL,
  indices BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS payloads(id INTEGER PRIMARY KEY, spec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes(
  name TEXT PRIMARY KEY,
  profile BLOB NOT NULL,
  last_seen_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS admin(
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  spec BLOB NOT NULL,
  PRIMARY KEY(kind, name));
INSERT OR IGNORE INTO meta(key, value) VALUES('schema', 'corral-1');
)";

// The `alloc` column holds the current run of a job: its allocation and how often it was
// requeued, and a preemption under way, in a JobInfo (its alloc, restarts and preempt fields).
std::string SerializeRun(const Job& j) {
  v1::JobInfo info;
  for (const auto& a : j.alloc) ToProto(a, info.add_alloc());
  info.set_restarts(j.restarts);
  if (j.preempted_by != 0) {
    info.set_preempted_by(j.preempted_by);
    info.set_preempt_mode(sched::PreemptModeName(j.preempt_mode));
    info.set_preempt_deadline_ms(j.preempt_deadline_ms);
  }
  if (!j.usage.empty()) *info.mutable_usage() = UsageOf(j);
  return info.SerializeAsString();
}

void ParseRun(const void* data, int size, Job* j) {
  v1::JobInfo info;
  if (!info.ParseFromArray(data, size)) return;
  for (const auto& a : info.alloc()) j->alloc.push_back(FromProto(a));
  j->restarts = info.restarts();
  j->preempted_by = info.preempted_by();
  if (!sched::ParsePreemptMode(info.preempt_mode(), &j->preempt_mode)) {
    j->preempt_mode = sched::PreemptMode::kCancel;
  }
  j->preempt_deadline_ms = info.preempt_deadline_ms();
  if (info.has_usage()) j->usage[""] = info.usage();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Invalid("--state-dir " + dir + ": not a directory");
  }
  std::string path = dir + "/corral.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::Unavailable(path + ": " + msg);
  }
  std::unique_ptr<Store> s(new Store(db));
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
    if (Status st2 = s->Exec(sql); !st2.ok()) return Status::Invalid(path + ": " + st2.message());
  }
  if (Status st2 = s->Exec(kSchema); !st2.ok()) {
    return Status::Invalid(path + ": not a Corral state database (" + st2.message() + ")");
  }
  if (Status st2 = s->Prepare(); !st2.ok()) return Status::Invalid(path + ": " + st2.message());
  return s;
}

Store::~Store() {
  sqlite3_finalize(put_job_);
  sqlite3_finalize(put_payload_);
  sqlite3_finalize(get_payload_);
  sqlite3_finalize(put_node_);
  sqlite3_finalize(put_array_);
  sqlite3_close(db_);
}

Status Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Internal(m);
  }
  return Status::Ok();
}

Status Store::Prepare() {
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO jobs(id,state,reason,submit_ms,start_ms,end_ms,"
                         "exit_code,accounted,spec,alloc,payload_id) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &put_job_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO nodes(name,profile,last_seen_ms) VALUES(?,?,?)",
                         -1, &put_node_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO payloads(id,spec) VALUES(?,?)", -1,
                         &put_payload_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "SELECT spec FROM payloads WHERE id=?", -1, &get_payload_, nullptr) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO arrays(first,last,state,reason,submit_ms,end_ms,"
                         "accounted,spec,payload_id,indices) VALUES(?,?,?,?,?,?,?,?,?,?)",
                         -1, &put_array_, nullptr) != SQLITE_OK) {
    return Status::Internal(sqlite3_errmsg(db_));
  }
  return Status::Ok();
}

Status Store::Begin() {
  return Exec("BEGIN IMMEDIATE");
}
Status Store::Commit() {
  return Exec("COMMIT");
}
void Store::Rollback() {
  (void)Exec("ROLLBACK");
}

Status Store::PutJob(const Job& j) {
  v1::JobSpec spec;
  ToProto(j.spec, &spec);
  std::string spec_bytes = spec.SerializeAsString();
  std::string alloc_bytes = SerializeRun(j);
  sqlite3_stmt* st = put_job_;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, j.id);
  sqlite3_bind_int(st, 2, static_cast<int>(j.state));
  sqlite3_bind_text(st, 3, j.reason.data(), static_cast<int>(j.reason.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 4, j.submit_ms);
  sqlite3_bind_int64(st, 5, j.start_ms);
  sqlite3_bind_int64(st, 6, j.end_ms);
  sqlite3_bind_int(st, 7, j.exit_code);
  sqlite3_bind_int(st, 8, j.accounted ? 1 : 0);
  sqlite3_bind_blob(st, 9, spec_bytes.data(), static_cast<int>(spec_bytes.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 10, alloc_bytes.data(), static_cast<int>(alloc_bytes.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 11, j.payload_id);
  if (sqlite3_step(st) != SQLITE_DONE) return Status::Internal(sqlite3_errmsg(db_));
  return Status::Ok();
}

Status Store::PutArray(const JobArray& a) {
  const Job& t = a.templ();
  v1::JobSpec spec;
  ToProto(t.spec, &spec);
  std::string spec_bytes = spec.SerializeAsString();
  std::string indices = a.indices()->Encode();
  sqlite3_stmt* st = put_array_;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, a.first());
  sqlite3_bind_int64(st, 2, a.last());
  sqlite3_bind_int(st, 3, static_cast<int>(t.state));
  sqlite3_bind_text(st, 4, t.reason.data(), static_cast<int>(t.reason.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 5, t.submit_ms);
  sqlite3_bind_int64(st, 6, t.end_ms);
  sqlite3_bind_int(st, 7, t.accounted ? 1 : 0);
  sqlite3_bind_blob(st, 8, spec_bytes.data(), static_cast<int>(spec_bytes.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 9, t.payload_id);
  sqlite3_bind_blob(st, 10, indices.data(), static_cast<int>(indices.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE) return Status::Internal(sqlite3_errmsg(db_));
  return Status::Ok();
}

Result<std::vector<JobArray>> Store::LoadArrays() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT first,last,state,reason,submit_ms,end_ms,accounted,spec,"
                         "payload_id,indices FROM arrays ORDER BY first",
                         -1, &st, nullptr) != SQLITE_OK) {
    return Status::Internal(sqlite3_errmsg(db_));
  }
  std::vector<JobArray> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    Job t;
    t.id = sqlite3_column_int64(st, 0);
    const JobId last = sqlite3_column_int64(st, 1);
    int state = sqlite3_column_int(st, 2);
    if (state < 0 || state > static_cast<int>(JobState::kLastState)) continue;
    t.state = static_cast<JobState>(state);
    const unsigned char* reason = sqlite3_column_text(st, 3);
    t.reason = reason ? reinterpret_cast<const char*>(reason) : "";
    t.submit_ms = sqlite3_column_int64(st, 4);
    t.end_ms = sqlite3_column_int64(st, 5);
    t.accounted = sqlite3_column_int(st, 6) != 0;
    v1::JobSpec spec;
    if (!spec.ParseFromArray(sqlite3_column_blob(st, 7), sqlite3_column_bytes(st, 7))) continue;
    t.spec = FromProto(spec);
    t.payload_id = sqlite3_column_int64(st, 8);
    t.spec.array_indices.clear();
    const char* blob = static_cast<const char*>(sqlite3_column_blob(st, 9));
    std::optional<IndexList> indices =
        IndexList::Decode(std::string_view(blob ? blob : "", sqlite3_column_bytes(st, 9)));
    if (!indices || indices->size() == 0 || last - t.id + 1 != static_cast<JobId>(indices->size()))
      continue;
    out.emplace_back(std::move(t), std::move(*indices));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Status::Internal(sqlite3_errmsg(db_));
  return out;
}

std::string Store::EncodePayload(const JobSpec& spec) {
  v1::JobSpec p;
  p.set_script(spec.script);
  for (const auto& [k, v] : spec.env) {
    auto* e = p.add_env();
    e->set_key(k);
    e->set_value(v);
  }
  for (const auto& a : spec.args) p.add_args(a);
  return p.SerializeAsString();  // proto3 without maps: deterministic for equal payloads
}

Status Store::PutPayload(JobId id, const std::string& bytes) {
  sqlite3_stmt* st = put_payload_;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_blob(st, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE) return Status::Internal(sqlite3_errmsg(db_));
  return Status::Ok();
}

Status Store::GetPayload(JobId id, JobSpec* spec) {
  sqlite3_stmt* st = get_payload_;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    return Status::NotFound("job payload " + std::to_string(id) + ": not in the store");
  }
  v1::JobSpec p;
  if (!p.ParseFromArray(sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0))) {
    return Status::Internal("job payload " + std::to_string(id) + ": corrupt");
  }
  spec->script = p.script();
  spec->env.clear();
  for (const auto& e : p.env()) spec->env.emplace_back(e.key(), e.value());
  spec->args.assign(p.args().begin(), p.args().end());
  return Status::Ok();
}

Status Store::PutNode(const NodeProfile& node, TimeMs last_seen_ms) {
  v1::NodeProfile p;
  ToProto(node, &p);
  std::string bytes = p.SerializeAsString();
  sqlite3_stmt* st = put_node_;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, node.name.data(), static_cast<int>(node.name.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, last_seen_ms);
  if (sqlite3_step(st) != SQLITE_DONE) return Status::Internal(sqlite3_errmsg(db_));
  return Status::Ok();
}

Result<std::vector<Job>> Store::LoadJobs() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id,state,reason,submit_ms,start_ms,end_ms,exit_code,accounted,"
                         "spec,alloc,payload_id FROM jobs ORDER BY id",
                         -1, &st, nullptr) != SQLITE_OK) {
    return Status::Internal(sqlite3_errmsg(db_));
  }
  std::vector<Job> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    Job j;
    j.id = sqlite3_column_int64(st, 0);
    int state = sqlite3_column_int(st, 1);
    if (state < 0 || state > static_cast<int>(JobState::kLastState)) continue;
    j.state = static_cast<JobState>(state);
    const unsigned char* reason = sqlite3_column_text(st, 2);
    j.reason = reason ? reinterpret_cast<const char*>(reason) : "";
    j.submit_ms = sqlite3_column_int64(st, 3);
    j.start_ms = sqlite3_column_int64(st, 4);
    j.end_ms = sqlite3_column_int64(st, 5);
    j.exit_code = sqlite3_column_int(st, 6);
    j.accounted = sqlite3_column_int(st, 7) != 0;
    v1::JobSpec spec;
    if (!spec.ParseFromArray(sqlite3_column_blob(st, 8), sqlite3_column_bytes(st, 8))) continue;
    j.spec = FromProto(spec);
    ParseRun(sqlite3_column_blob(st, 9), sqlite3_column_bytes(st, 9), &j);
    j.payload_id = sqlite3_column_int64(st, 10);
    out.push_back(std::move(j));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Status::Internal(sqlite3_errmsg(db_));
  return out;
}

Status Store::PutAdmin(const std::string& kind, const std::string& name, const std::string& bytes) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO admin(kind,name,spec) VALUES(?,?,?)", -1, &st,
                         nullptr) != SQLITE_OK) {
    return Status::Internal(sqlite3_errmsg(db_));
  }
  sqlite3_bind_text(st, 1, kind.data(), static_cast<int>(kind.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 3, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? Status::Ok() : Status::Internal(sqlite3_errmsg(db_));
}

Status Store::DeleteAdmin(const std::string& kind, const std::string& name) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM admin WHERE kind=? AND name=?", -1, &st, nullptr) !=
      SQLITE_OK) {
    return Status::Internal(sqlite3_errmsg(db_));
  }
  sqlite3_bind_text(st, 1, kind.data(), static_cast<int>(kind.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? Status::Ok() : Status::Internal(sqlite3_errmsg(db_));
}

Result<std::vector<std::pair<std::string, std::string>>> Store::LoadAdmin(const std::string& kind) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT name,spec FROM admin WHERE kind=? ORDER BY name", -1, &st,
                         nullptr) != SQLITE_OK) {
    return Status::Internal(sqlite3_errmsg(db_));
  }
  sqlite3_bind_text(st, 1, kind.data(), static_cast<int>(kind.size()), SQLITE_TRANSIENT);
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char* name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    const char* blob = static_cast<const char*>(sqlite3_column_blob(st, 1));
    out.emplace_back(name ? name : "", std::string(blob ? blob : "", sqlite3_column_bytes(st, 1)));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Status::Internal(sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<NodeProfile>> Store::LoadNodes() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT profile FROM nodes ORDER BY name", -1, &st, nullptr) !=
      SQLITE_OK) {
    return Status::Internal(sqlite3_errmsg(db_));
  }
  std::vector<NodeProfile> out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    v1::NodeProfile p;
    if (p.ParseFromArray(sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0))) {
      out.push_back(FromProto(p));
    }
  }
  sqlite3_finalize(st);
  return out;
}

Result<JobId> Store::MaxJobId() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT MAX((SELECT COALESCE(MAX(id),0) FROM jobs),"
                         "(SELECT COALESCE(MAX(last),0) FROM arrays))",
                         -1, &st, nullptr) != SQLITE_OK) {
    return Status::Internal(sqlite3_errmsg(db_));
  }
  JobId id = 0;
  if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return id;
}

}  // namespace corral::ctld
