// The published view: after each commit the writer publishes what readers see (jobs, nodes,
// answers to Wait calls), and the reads of the RPC API are served from it without waiting on
// the writer (ListJobs, ListNodes, Accounting). Methods of Controller (and Impl).
#include <algorithm>

#include "common/log.h"
#include "common/time.h"
#include "fabric/convert.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {

void FillAcct(const JobRecord& r, v1::AcctRecord* o) {
  o->set_job_id(r.job_id);
  o->set_name(r.name);
  o->set_user(r.user);
  o->set_account(r.account);
  o->set_partition(r.partition);
  o->set_nodelist(r.nodelist);
  o->set_gpu_models(r.gpu_models);
  o->set_state(r.state);
  o->set_nnodes(r.nnodes);
  o->set_ncpus(r.ncpus);
  o->set_ngpus(r.ngpus);
  o->set_exit_code(r.exit_code);
  o->set_submit_ms(r.submit_ms);
  o->set_start_ms(r.start_ms);
  o->set_end_ms(r.end_ms);
  o->set_cpu_ms(r.cpu_ms);
  o->set_gpu_ms(r.gpu_ms);
  o->set_qos(r.qos);
  o->set_restarts(r.restarts);
  o->set_eligible_ms(r.eligible_ms);
  o->set_cpu_used_ms(r.cpu_used_ms);
  o->set_max_rss_bytes(r.max_rss_bytes);
  o->set_energy_mj(r.energy_mj);
}

void FillStep(const StepRecord& r, v1::StepRecord* o) {
  o->set_job_id(r.job_id);
  o->set_step_id(r.step_id);
  o->set_node(r.node);
  o->set_name(r.name);
  o->set_state(r.state);
  o->set_exit_code(r.exit_code);
  o->set_start_ms(r.start_ms);
  o->set_end_ms(r.end_ms);
  o->set_cpu_used_ms(r.cpu_used_ms);
  o->set_max_rss_bytes(r.max_rss_bytes);
  o->set_restarts(r.restarts);
}

void FillUsage(const UsageSample& r, v1::UsageRecord* o) {
  o->set_job_id(r.job_id);
  o->set_node(r.node);
  o->set_sampled_ms(r.sampled_ms);
  o->set_cpu_ms(r.cpu_ms);
  o->set_rss_bytes(r.rss_bytes);
  o->set_gpu_util_pct(r.gpu_util_pct);
  o->set_gpu_mem_bytes(r.gpu_mem_bytes);
  o->set_gpu_power_mw(r.gpu_power_mw);
  o->set_energy_mj(r.energy_mj);
  o->set_restarts(r.restarts);
}

}  // namespace

v1::JobUsage UsageOf(const Job& j) {
  v1::JobUsage sum;
  sum.set_job_id(j.id);
  sum.set_restarts(j.restarts);
  int64_t util = 0;
  for (const auto& [node, u] : j.usage) {
    sum.set_cpu_ms(sum.cpu_ms() + u.cpu_ms());
    sum.set_rss_bytes(sum.rss_bytes() + u.rss_bytes());
    sum.set_max_rss_bytes(sum.max_rss_bytes() + u.max_rss_bytes());
    sum.set_sampled_ms(std::max(sum.sampled_ms(), u.sampled_ms()));
    sum.set_gpu_mem_bytes(sum.gpu_mem_bytes() + u.gpu_mem_bytes());
    sum.set_gpu_power_mw(sum.gpu_power_mw() + u.gpu_power_mw());
    sum.set_energy_mj(sum.energy_mj() + u.energy_mj());
    util += u.gpu_util_pct();
  }
  // The mean over its nodes (each node's figure is the mean of its GPUs there).
  if (!j.usage.empty())
    sum.set_gpu_util_pct(static_cast<int32_t>(util / static_cast<int64_t>(j.usage.size())));
  return sum;
}

v1::JobInfo Controller::Impl::MakeInfo(const Job& j) const {
  v1::JobInfo info;
  info.set_id(j.id);
  ToProto(j.spec, info.mutable_spec());
  // The published view keeps neither the script nor the environment: they can be large.
  info.mutable_spec()->clear_script();
  info.mutable_spec()->clear_env();
  info.set_state(JobStateName(j.state));
  info.set_reason(j.reason);
  info.set_submit_ms(j.submit_ms);
  info.set_start_ms(j.start_ms);
  info.set_end_ms(j.end_ms);
  info.set_exit_code(j.exit_code);
  info.set_restarts(j.restarts);
  if (j.preempted_by != 0 && j.state == JobState::kRunning) {
    info.set_preempted_by(j.preempted_by);
    info.set_preempt_mode(sched::PreemptModeName(j.preempt_mode));
    info.set_preempt_deadline_ms(j.preempt_deadline_ms);
  }
  if (auto r = reserved.find(j.id); r != reserved.end() && j.state == JobState::kPending) {
    info.set_expected_start_ms(r->second.start);
  }
  for (const auto& a : j.alloc) ToProto(a, info.add_alloc());
  if (!j.usage.empty()) *info.mutable_usage() = UsageOf(j);
  info.set_nodelist(j.Nodelist());
  std::string first = j.alloc.empty() ? "" : j.alloc[0].node;
  std::string out = j.spec.output.empty() ? j.spec.workdir + "/corral-%j.out" : j.spec.output;
  info.set_stdout_path(ExpandOutputPattern(out, j.id, j.spec, first));
  info.set_stderr_path(j.spec.error.empty()
                           ? info.stdout_path()
                           : ExpandOutputPattern(j.spec.error, j.id, j.spec, first));
  return info;
}

v1::NodeInfo Controller::Impl::MakeNodeInfo(const NodeEntry& n) const {
  v1::NodeInfo ni;
  ToProto(n.profile, ni.mutable_profile());
  int32_t used_cpus = n.profile.cpus - n.free.free_cpus;
  int32_t used_gpus = 0;
  for (bool f : n.free.gpu_free) used_gpus += f ? 0 : 1;
  ni.set_alloc_cpus(used_cpus);
  ni.set_alloc_mem_mib(n.profile.mem_mib - n.free.free_mem_mib);
  ni.set_alloc_gpus(used_gpus);
  ni.set_last_seen_ms(n.last_seen_ms);
  NodeState st = NodeState::kIdle;
  if (!n.connected) {
    st = NodeState::kDown;
  } else if (n.verification == "pending") {
    st = NodeState::kVerifying;
  } else if (n.hold.state() == "down") {
    st = NodeState::kDown;
  } else if (n.hold.state() == "drain") {
    st = n.jobs.empty() ? NodeState::kDrained : NodeState::kDraining;
  } else if (n.verification.rfind("failed", 0) == 0) {
    st = NodeState::kFailed;
  } else if (n.verification.rfind("unverified", 0) == 0) {
    st = NodeState::kUnverified;
  } else if (used_cpus >= n.profile.cpus && n.profile.cpus > 0) {
    st = NodeState::kAllocated;
  } else if (used_cpus > 0 || used_gpus > 0) {
    st = NodeState::kMixed;
  }
  ni.set_state(NodeStateName(st));
  for (JobId id : n.jobs) ni.add_jobs(id);
  ni.set_verification(n.verification);
  if (!n.hold.state().empty()) *ni.mutable_hold() = n.hold;
  ni.set_last_check_ms(n.last_check_ms);
  ni.set_label(n.label);
  for (const auto& c : n.gpu_checks) *ni.add_gpu_checks() = c;
  for (const sched::Partition& p : partitions) {
    if (p.HasNode(n.profile.name)) ni.add_partitions(p.name);
  }
  return ni;
}

void Controller::Impl::Publish(const Batch& b) {
  std::vector<std::pair<JobId, JobView>> views;
  views.reserve(b.changed_jobs.size());
  std::set<JobId> changed_arrays = b.changed_arrays;
  for (JobId id : b.changed_jobs) {
    if (auto it = jobs.find(id); it != jobs.end()) {
      views.emplace_back(id, JobView(MakeInfo(it->second)));
    } else if (const JobArray* a = ArrayOf(id)) {
      changed_arrays.insert(a->first());  // a task without a Job of its own: its rest's entry
    }
  }
  std::vector<std::pair<JobId, ArrayShown>> arrays_shown;
  for (JobId first : changed_arrays) {
    const JobArray& a = arrays.at(first);
    ArrayShown shown;
    shown.last = a.last();
    shown.indices = a.indices();
    shown.rest_id = a.LowestRest();
    if (shown.rest_id != 0) {
      v1::JobInfo info = MakeInfo(a.MakeTask(shown.rest_id));
      info.set_array_tasks(a.RestRanges());
      shown.rest = JobView(info);
    }
    arrays_shown.emplace_back(first, std::move(shown));
  }
  std::vector<v1::NodeInfo> node_infos;
  if (b.nodes_changed) {
    for (const auto& [name, n] : nodes) node_infos.push_back(MakeNodeInfo(n));
  }
  std::vector<WaitAnswered> answers;
  {
    std::unique_lock<std::shared_mutex> l(view_mu);
    for (auto& [id, view] : views) {
      if (view.state() == JobState::kPending || view.state() == JobState::kRunning) {
        view_active.insert(id);
      } else {
        view_active.erase(id);
      }
      view_jobs[id] = std::move(view);
    }
    for (auto& [first, shown] : arrays_shown) view_arrays[first] = std::move(shown);
    if (b.nodes_changed) view_nodes = std::move(node_infos);
    if (!views.empty() || !arrays_shown.empty()) {
      {
        std::lock_guard<std::mutex> g(stream_mu);
        active_stream.reset();
      }
      for (auto it = waiters.begin(); it != waiters.end();) {
        if (Reached(*it->second)) {
          answers.emplace_back(std::move(it->second->done), WaitAnswer(*it->second));
          it = waiters.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  for (auto& [done, reply] : answers) done(std::move(reply));
}

bool Controller::Impl::Reached(Waiter& w) const {
  while (w.first_open < w.ids.size()) {
    JobState st = JobState::kPending;
    int32_t exit_code = 0;
    if (!ShownState(w.ids[w.first_open], &st, &exit_code)) return false;
    bool there = w.until_running ? st != JobState::kPending : IsTerminal(st);
    if (!there) return false;
    ++w.first_open;
  }
  return true;
}

v1::WaitReply Controller::Impl::WaitAnswer(const Waiter& w) const {
  v1::WaitReply reply;
  bool all = true;
  // A whole array's worth of states would be large: list only the first 1000 jobs, and those
  // that have not got there or failed.
  for (size_t i = 0; i < w.ids.size(); ++i) {
    JobState st = JobState::kPending;
    int32_t exit_code = 0;
    if (!ShownState(w.ids[i], &st, &exit_code)) continue;
    bool there = w.until_running ? st != JobState::kPending : IsTerminal(st);
    if (i < 1000 || !there || exit_code != 0) ShownInfo(w.ids[i], reply.add_jobs());
    if (!there) all = false;
    if (reply.jobs_size() > 10000) break;
  }
  reply.set_all_done(all);
  return reply;
}

void Controller::Impl::TimerLoop() {
  std::unique_lock<std::shared_mutex> l(view_mu);
  while (!timer_stop) {
    if (waiters.empty()) {
      timer_cv.wait(l);
    } else {
      // A copy: the waiter may be answered, and its entry erased, while this thread sleeps.
      WaitClock::time_point next = waiters.begin()->first;
      timer_cv.wait_until(l, next);
    }
    std::vector<WaitAnswered> answers;
    auto now = WaitClock::now();
    while (!waiters.empty() && waiters.begin()->first <= now) {
      auto& w = *waiters.begin()->second;
      answers.emplace_back(std::move(w.done), WaitAnswer(w));
      waiters.erase(waiters.begin());
    }
    if (answers.empty()) continue;
    l.unlock();
    for (auto& [done, reply] : answers) done(std::move(reply));
    l.lock();
  }
}

template <typename Ids>
void Controller::Impl::ForEachListed(const Ids& ids, bool active_only, bool expand,
                                     const std::function<void(const JobView&)>& fn) const {
  // The arrays' rests, placed by their lowest task.
  std::vector<std::pair<JobId, JobId>> rests;  // (rest_id, first)
  for (const auto& [first, a] : view_arrays) {
    if (a.rest_id == 0) continue;
    if (active_only && a.rest.state() != JobState::kPending) continue;
    rests.emplace_back(a.rest_id, first);
  }
  std::sort(rests.begin(), rests.end());
  auto rest = [&](JobId first) {
    const ArrayShown& a = view_arrays.at(first);
    if (!expand) return fn(a.rest);
    v1::JobInfo info;
    for (JobId t = a.rest_id; t <= a.last; ++t) {
      if (view_jobs.count(t) || !ShownInfo(t, &info)) continue;
      fn(JobView(info));
    }
  };
  size_t r = 0;
  for (JobId id : ids) {
    for (; r < rests.size() && rests[r].first < id; ++r) rest(rests[r].second);
    fn(view_jobs.at(id));
  }
  for (; r < rests.size(); ++r) rest(rests[r].second);
}

v1::ListJobsReply Controller::ListJobs(const v1::ListJobsRequest& req) const {
  v1::ListJobsReply reply;
  std::shared_lock<std::shared_mutex> l(impl_->view_mu);
  const std::set<JobId>& active = impl_->view_active;
  if (req.brief() && req.ids_size() == 0 && !req.include_finished() && req.user().empty() &&
      !req.expand_arrays()) {
    // The plain `corral queue`: served from the cached stream, one string copy.
    std::shared_ptr<const std::string> s;
    {
      std::lock_guard<std::mutex> g(impl_->stream_mu);
      s = impl_->active_stream;
    }
    if (!s) {
      size_t n = 0;
      impl_->ForEachListed(active, true, false,
                           [&](const JobView& j) { n += j.brief_entry().size(); });
      auto built = std::make_shared<std::string>();
      built->reserve(n);
      impl_->ForEachListed(active, true, false,
                           [&](const JobView& j) { built->append(j.brief_entry()); });
      s = built;
      std::lock_guard<std::mutex> g(impl_->stream_mu);
      impl_->active_stream = s;
    }
    reply.set_brief_stream(*s);
    return reply;
  }
  std::string* stream = req.brief() ? reply.mutable_brief_stream() : reply.mutable_info_stream();
  v1::JobBrief brief;
  auto add = [&](const JobView& j) {
    // The user is in the brief entry, the smaller one to parse.
    if (!req.user().empty() && (!j.Brief(&brief) || brief.user() != req.user())) return;
    stream->append(req.brief() ? j.brief_entry() : j.info_entry());
  };
  if (req.ids_size() > 0) {
    v1::JobInfo info;
    for (int64_t id : req.ids()) {
      if (auto a = impl_->view_arrays.find(id); a != impl_->view_arrays.end()) {
        // An array's id: every task of it.
        for (JobId t = id; t <= a->second.last; ++t) {
          if (auto it = impl_->view_jobs.find(t); it != impl_->view_jobs.end()) add(it->second);
        }
        if (a->second.rest_id == 0) continue;
        if (!req.expand_arrays()) {
          add(a->second.rest);
          continue;
        }
        for (JobId t = a->second.rest_id; t <= a->second.last; ++t) {
          if (!impl_->view_jobs.count(t) && impl_->ShownInfo(t, &info)) add(JobView(info));
        }
      } else if (auto it = impl_->view_jobs.find(id); it != impl_->view_jobs.end()) {
        add(it->second);
      } else if (impl_->ShownInfo(id, &info)) {
        add(JobView(info));
      }
    }
  } else if (req.include_finished()) {
    std::vector<JobId> ids;
    ids.reserve(impl_->view_jobs.size());
    for (const auto& [id, j] : impl_->view_jobs) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    impl_->ForEachListed(ids, false, req.expand_arrays(), add);
  } else {
    impl_->ForEachListed(active, true, req.expand_arrays(), add);
  }
  return reply;
}

v1::ListNodesReply Controller::ListNodes() const {
  v1::ListNodesReply reply;
  std::shared_lock<std::shared_mutex> l(impl_->view_mu);
  for (const auto& n : impl_->view_nodes) *reply.add_nodes() = n;
  return reply;
}

void Controller::Wait(const v1::WaitRequest& req,
                      std::function<void(Result<v1::WaitReply>)> done) const {
  int64_t timeout = req.timeout_ms() > 0 ? std::min<int64_t>(req.timeout_ms(), 600000) : 30000;
  auto w = std::make_shared<Impl::Waiter>();
  w->until_running = req.until_running();
  JobId unknown = 0;
  v1::WaitReply now;
  {
    std::unique_lock<std::shared_mutex> l(impl_->view_mu);
    for (int64_t id : req.ids()) {
      auto a = impl_->view_arrays.find(id);
      if (a != impl_->view_arrays.end()) {
        for (JobId t = id; t <= a->second.last; ++t) w->ids.push_back(t);
      } else {
        w->ids.push_back(id);
      }
    }
    JobState st;
    int32_t exit_code;
    for (JobId id : w->ids) {
      if (!impl_->ShownState(id, &st, &exit_code)) {
        unknown = id;
        break;
      }
    }
    if (unknown == 0 && !impl_->Reached(*w)) {
      w->done = std::move(done);
      auto deadline = Impl::WaitClock::now() + std::chrono::milliseconds(timeout);
      bool first = impl_->waiters.empty() || deadline < impl_->waiters.begin()->first;
      impl_->waiters.emplace(deadline, std::move(w));
      if (first) impl_->timer_cv.notify_one();
      return;
    }
    if (unknown == 0) now = impl_->WaitAnswer(*w);
  }
  if (unknown != 0) {
    done(Status::NotFound("job " + std::to_string(unknown) + ": no such job"));
  } else {
    done(std::move(now));
  }
}

Result<v1::AcctReply> Controller::Accounting(const v1::AcctRequest& req) const {
  if (req.usage() && req.ids().empty()) {
    return Status::Invalid("usage: name the jobs (ids) whose samples to show");
  }
  const AccountingWriter& file = impl_->acct->writer();
  Result<std::vector<JobRecord>> rows = file.ReadAll();
  if (!rows.ok()) return rows.status();
  std::set<int64_t> want(req.ids().begin(), req.ids().end());
  std::set<JobId> chosen;
  v1::AcctReply reply;
  for (const auto& r : *rows) {
    if (!want.empty() && !want.count(r.job_id)) continue;
    if (!req.user().empty() && r.user != req.user()) continue;
    FillAcct(r, reply.add_records());
    chosen.insert(r.job_id);
  }
  if (req.steps() && !chosen.empty()) {
    auto steps = file.ReadSteps(chosen);
    if (!steps.ok()) return steps.status();
    for (const auto& s : *steps) FillStep(s, reply.add_steps());
  }
  if (req.usage() && !chosen.empty()) {
    auto usage = file.ReadUsage(chosen);
    if (!usage.ok()) return usage.status();
    for (const auto& u : *usage) FillUsage(u, reply.add_usage());
  }
  return reply;
}

void Controller::FindStepTarget(int64_t job_id, const std::string& node,
                                std::function<void(Result<StepTarget>)> done) const {
  // Served by the writer so the channel and the job's state are read consistently.
  using R = Result<StepTarget>;
  impl_->RunAsync<R>(
      [this, job_id, node](Batch&) -> R {
        Job scratch;
        const Job* found = impl_->Lookup(job_id, &scratch);
        if (!found) return Status::NotFound("job " + std::to_string(job_id) + ": no such job");
        const Job& j = *found;
        if (j.state != JobState::kRunning) {
          return Status::FailedPrecondition("job " + std::to_string(job_id) + " is " +
                                            JobStateName(j.state) + ", not RUNNING");
        }
        const std::string name = node.empty() && !j.alloc.empty() ? j.alloc[0].node : node;
        bool on = std::any_of(j.alloc.begin(), j.alloc.end(),
                              [&](const NodeAllocation& a) { return a.node == name; });
        if (!on) {
          return Status::Invalid("node " + name + ": not allocated to job " +
                                 std::to_string(job_id) + " (nodes: " + j.Nodelist() + ")");
        }
        auto nit = impl_->nodes.find(name);
        if (nit == impl_->nodes.end() || !nit->second.channel) {
          return Status::Unavailable("node " + name + " is not connected");
        }
        return StepTarget{nit->second.channel, impl_->MakeInfo(j), name};
      },
      std::move(done));
}

bool Controller::JobActive(int64_t id) const {
  std::shared_lock<std::shared_mutex> l(impl_->view_mu);
  auto it = impl_->view_jobs.find(id);
  return it != impl_->view_jobs.end() && !IsTerminal(it->second.state());
}

}  // namespace corral::ctld
