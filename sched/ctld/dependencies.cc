// Job dependencies (-d/--dependency), as Slurm defines them: after, afterok, afternotok,
// afterany and aftercorr on other jobs (an array's first id: each of its tasks), singleton on the
// earlier jobs of the same name and user; ',' means all of them, '?' any of them
// (JobSpec::dependency_any). Methods of Controller::Impl, on the writer thread.
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
  std::vector<JobId> targets = Expand(d.job_id);
  std::string type = d.type;
  if (type == "aftercorr") {
    // The task of the other array with this task's index; a job that is not an array task, or
    // another job that is not an array, waits for all of it to succeed.
    type = "afterok";
    if (j.spec.array_job_id > 0 && arrays.count(d.job_id)) {
      std::vector<JobId> same;
      for (JobId t : targets) {
        auto it = jobs.find(t);
        if (it != jobs.end() && it->second.spec.array_task_id == j.spec.array_task_id) {
          same.push_back(t);
        }
      }
      if (same.empty()) return Deps::kReady;  // nothing corresponds to this task
      targets = std::move(same);
    }
  }
  for (JobId t : targets) {
    auto it = jobs.find(t);
    if (it == jobs.end()) return Deps::kNever;
    JobState st = it->second.state;
    bool done = IsTerminal(st), ok = st == JobState::kCompleted;
    if (type == "after") {
      if (st == JobState::kPending) return Deps::kWait;
    } else if (type == "afterok") {
      if (done && !ok) return Deps::kNever;
      if (!done) return Deps::kWait;
    } else if (type == "afternotok") {
      if (ok) return Deps::kNever;
      if (!done) return Deps::kWait;
    } else if (!done) {
      return Deps::kWait;  // afterany
    }
  }
  return Deps::kReady;
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
  it->second.erase(j.id);
  if (it->second.empty()) active_names.erase(it);
}

}  // namespace corral::ctld
