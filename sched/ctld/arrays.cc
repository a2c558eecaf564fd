// Compact arrays (job_array.h): the tasks of an array that have no Job of their own yet, as
// the writer finds, files, stores and ends them, and as the published view shows them.
// Methods of Controller::Impl.
#include <algorithm>

#include "common/log.h"
#include "fabric/convert.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

JobArray* Controller::Impl::ArrayOf(JobId id) {
  return const_cast<JobArray*>(static_cast<const Impl*>(this)->ArrayOf(id));
}

const JobArray* Controller::Impl::ArrayOf(JobId id) const {
  auto it = arrays.upper_bound(id);
  if (it == arrays.begin()) return nullptr;
  --it;
  return it->second.Contains(id) ? &it->second : nullptr;
}

bool Controller::Impl::Exists(JobId id) const {
  return jobs.count(id) > 0 || ArrayOf(id) != nullptr;
}

const Job* Controller::Impl::Lookup(JobId id, Job* scratch) const {
  if (auto it = jobs.find(id); it != jobs.end()) return &it->second;
  const JobArray* a = ArrayOf(id);
  if (!a) return nullptr;
  *scratch = a->MakeTask(id);
  return scratch;
}

Job* Controller::Impl::Materialise(JobId id, Batch& b) {
  if (auto it = jobs.find(id); it != jobs.end()) return &it->second;
  JobArray* a = ArrayOf(id);
  if (!a) return nullptr;
  Job j = a->MakeTask(id);
  a->SetOwn(id);
  const bool was_active = j.state == JobState::kPending;
  if (was_active) {
    // Filed where its rest is.
    if (rest_pending.count(a->first())) {
      pending.insert(id);
    } else if (rest_dep_wait.count(a->first())) {
      dep_wait.insert(id);
      deps_dirty = true;
    } else {
      held.insert(id);
    }
    NoteActive(j, true);
  }
  if (!a->RestActive()) {
    rest_pending.erase(a->first());
    rest_dep_wait.erase(a->first());
    if (was_active && a->rest() == 0) NoteActive(a->templ(), false);
  }
  Persist(j, b);
  b.changed_arrays.insert(a->first());
  return &jobs.emplace(id, std::move(j)).first->second;
}

void Controller::Impl::PersistArray(const JobArray& a, Batch& b) {
  if (Status s = store->PutArray(a); !s.ok()) {
    spdlog::critical("state store: writing array {}: {}", a.first(), s.message());
    std::abort();
  }
  b.changed_arrays.insert(a.first());
}

void Controller::Impl::FileRest(JobArray& a) {
  rest_pending.erase(a.first());
  rest_dep_wait.erase(a.first());
  if (!a.RestActive() || a.templ().spec.hold) return;
  if (!a.templ().spec.dependencies.empty()) {
    rest_dep_wait.insert(a.first());
    deps_dirty = true;
  } else {
    rest_pending.insert(a.first());
  }
}

void Controller::Impl::CancelRest(JobArray& a, TimeMs now, Batch& b) {
  if (!a.RestActive()) return;
  Job& t = a.templ();
  t.state = JobState::kCancelled;
  t.end_ms = now;
  t.reason = "cancelled by user";
  rest_pending.erase(a.first());
  rest_dep_wait.erase(a.first());
  NoteActive(t, false);
  deps_dirty = true;
  PersistArray(a, b);
  a.ForEachRest([&](JobId id) { to_account.push_back(id); });
  b.schedule = true;
}

void Controller::Impl::ReleaseRest(JobArray& a, Batch& b) {
  Job& t = a.templ();
  t.spec.hold = false;
  t.reason = t.spec.dependencies.empty() ? "Priority" : "Dependency";
  FileRest(a);
  PersistArray(a, b);
  b.schedule = true;
}

Status Controller::Impl::LoadArrays() {
  auto loaded = store->LoadArrays();
  if (!loaded.ok()) return loaded.status();
  for (JobArray& a : *loaded) {
    for (auto it = jobs.lower_bound(a.first()); it != jobs.end() && it->first <= a.last(); ++it) {
      a.SetOwn(it->first);
    }
    JobId first = a.first();
    JobArray& in = arrays.emplace(first, std::move(a)).first->second;
    if (in.RestActive()) NoteActive(in.templ(), true);
    FileRest(in);
    if (IsTerminal(in.rest_state()) && !in.templ().accounted) {
      in.ForEachRest([&](JobId id) { to_account.push_back(id); });
    }
  }
  // Arrays stored before arrays had rows of their own: every task is a job.
  std::map<JobId, std::vector<const Job*>> legacy;
  for (const auto& [id, j] : jobs) {
    if (j.spec.array_job_id > 0 && !arrays.count(j.spec.array_job_id)) {
      legacy[j.spec.array_job_id].push_back(&j);
    }
  }
  for (const auto& [first, tasks] : legacy) {
    bool contiguous = tasks.front()->id == first;
    std::vector<int32_t> indices;
    for (size_t k = 0; k < tasks.size(); ++k) {
      contiguous = contiguous && tasks[k]->id == first + static_cast<JobId>(k);
      indices.push_back(tasks[k]->spec.array_task_id);
    }
    if (!contiguous || !std::is_sorted(indices.begin(), indices.end())) {
      spdlog::warn("state: array {}: its tasks' ids are not contiguous; kept as plain jobs", first);
      continue;
    }
    Job t = *tasks.front();
    t.id = first;
    t.spec.array_task_id = -1;
    t.alloc.clear();
    JobArray a(std::move(t), std::move(indices));
    for (const Job* j : tasks) a.SetOwn(j->id);
    arrays.emplace(first, std::move(a));
  }
  return Status::Ok();
}

JobId Controller::Impl::FirstActive(const std::function<bool(const JobSpec&)>& pred,
                                    int32_t* count) const {
  JobId found = 0;
  int32_t n = 0;
  for (const auto& [id, j] : jobs) {
    if (IsTerminal(j.state) || !pred(j.spec)) continue;
    if (n++ == 0) found = id;
    if (!count) return found;
  }
  for (const auto& [first, a] : arrays) {
    if (!a.RestActive() || !pred(a.templ().spec)) continue;
    if (found == 0 || a.LowestRest() < found) found = a.LowestRest();
    n += static_cast<int32_t>(a.rest());
    if (!count) return found;
  }
  if (count) *count = n;
  return found;
}

bool Controller::Impl::ShownState(JobId id, JobState* st, int32_t* exit_code) const {
  if (auto it = view_jobs.find(id); it != view_jobs.end()) {
    *st = it->second.state();
    *exit_code = it->second.exit_code();
    return true;
  }
  auto a = view_arrays.upper_bound(id);
  if (a == view_arrays.begin()) return false;
  --a;
  if (id > a->second.last || a->second.rest_id == 0) return false;
  *st = a->second.rest.state();
  *exit_code = a->second.rest.exit_code();
  return true;
}

bool Controller::Impl::ShownInfo(JobId id, v1::JobInfo* out) const {
  if (auto it = view_jobs.find(id); it != view_jobs.end()) return it->second.Info(out);
  auto a = view_arrays.upper_bound(id);
  if (a == view_arrays.begin()) return false;
  --a;
  const ArrayShown& s = a->second;
  if (id > s.last || s.rest_id == 0 || !s.rest.Info(out)) return false;
  // The rest's entry is its lowest task's; another task differs in its id and index only.
  if (id != s.rest_id) {
    out->set_id(id);
    out->mutable_spec()->set_array_task_id((*s.indices)[static_cast<size_t>(id - a->first)]);
    out->clear_expected_start_ms();
    const JobSpec spec = FromProto(out->spec(), false);
    std::string pattern = spec.output.empty() ? spec.workdir + "/corral-%j.out" : spec.output;
    out->set_stdout_path(ExpandOutputPattern(pattern, id, spec, ""));
    out->set_stderr_path(spec.error.empty() ? out->stdout_path()
                                            : ExpandOutputPattern(spec.error, id, spec, ""));
  }
  out->clear_array_tasks();
  return true;
}

}  // namespace corral::ctld
