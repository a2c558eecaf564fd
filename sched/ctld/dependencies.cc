// Job dependencies (-d/--dependency), as Slurm defines them: after, afterok, afternotok,
// afterany and aftercorr on other jobs (an array's first id: each of its tasks), singleton on the
// earlier jobs of the same name and user; ',' means all of them, '?' any of them
// (JobSpec::dependency_any). Methods of Controller::Impl, on the writer thread.
#include <algorithm>

#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

Controller::Impl::Deps Controller::Impl::EvaluateDep(const Job& j,
                                                     const JobSpec::Dependency& d) const {
  if (d.type == "singleton") {
    // Waits while an earlier job of the same name and user has not ended.
    auto it = active_names.find({j.spec.user, j.spec.name});
    if (it != active_names.end() && !it->second.empty() && *it->second.begin() < j.id) {
      return Deps::kWait;
    }
    return Deps::kReady;
  }
  std::string type = d.type == "aftercorr" ? "afterok" : d.type;
  // kReady: this target does not hold the dependency back.
  auto check = [&](JobState st) {
    bool done = IsTerminal(st), ok = st == JobState::kCompleted;
    if (type == "after") return st == JobState::kPending ? Deps::kWait : Deps::kReady;
    if (type == "afterok") return done && !ok ? Deps::kNever : done ? Deps::kReady : Deps::kWait;
    if (type == "afternotok") return ok ? Deps::kNever : done ? Deps::kReady : Deps::kWait;
    return done ? Deps::kReady : Deps::kWait;  // afterany
  };
  auto one = [&](JobId t) {
    if (auto it = jobs.find(t); it != jobs.end()) return check(it->second.state);
    const JobArray* a = ArrayOf(t);
    return a ? check(a->rest_state()) : Deps::kNever;
  };
  auto arr = arrays.find(d.job_id);
  if (arr == arrays.end()) return one(d.job_id);
  const JobArray& a = arr->second;
  if (d.type == "aftercorr" && j.spec.array_job_id > 0) {
    // The task of the other array with this task's index; a job that is not an array task
    // waits for all of the other array to succeed.
    std::optional<size_t> at = a.indices()->Find(j.spec.array_task_id);
    if (!at) return Deps::kReady;  // none corresponds
    return one(a.first() + static_cast<JobId>(*at));
  }
  // Every task: those with a Job of their own, then the rest, which share one state.
  Deps all = Deps::kReady;
  for (auto it = jobs.lower_bound(a.first()); it != jobs.end() && it->first <= a.last(); ++it) {
    Deps r = check(it->second.state);
    if (r == Deps::kNever) return r;
    if (r == Deps::kWait) all = r;
  }
  if (a.rest() > 0) {
    Deps r = check(a.rest_state());
    if (r != Deps::kReady) return r;
  }
  return all;
}

Controller::Impl::Deps Controller::Impl::EvaluateDeps(const Job& j) const {
  if (j.spec.dependency_any) {
    // Any of them: ready when one is, never when none can be.
    bool waiting = false;
    for (const auto& d : j.spec.dependencies) {
      Deps r = EvaluateDep(j, d);
      if (r == Deps::kReady) return Deps::kReady;
      waiting = waiting || r == Deps::kWait;
    }
    if (j.spec.dependencies.empty()) return Deps::kReady;
    return waiting ? Deps::kWait : Deps::kNever;
  }
  Deps all = Deps::kReady;
  for (const auto& d : j.spec.dependencies) {
    Deps r = EvaluateDep(j, d);
    if (r == Deps::kNever) return Deps::kNever;
    if (r == Deps::kWait) all = Deps::kWait;
  }
  return all;
}

void Controller::Impl::NoteActive(const Job& j, bool active) {
  auto key = std::make_pair(j.spec.user, j.spec.name);
  if (active) {
    active_names[key].insert(j.id);
    return;
  }
  auto it = active_names.find(key);
  if (it == active_names.end()) return;
  if (auto one = it->second.find(j.id); one != it->second.end()) it->second.erase(one);
  if (it->second.empty()) active_names.erase(it);
}

}  // namespace corral::ctld
