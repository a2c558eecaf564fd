// The controller's writer loop, the job life cycle and the commands of the RPC API. What nodes
// report is in node_events.cc, the scheduling pass's shell in scheduling.cc, dependencies in
// dependencies.cc, QOS in admin_qos.cc.
#include "sched/ctld/controller.h"

#include <algorithm>

#include "common/log.h"
#include "common/time.h"
#include "fabric/convert.h"
#include "sched/core/fifo.h"
#include "sched/ctld/controller_impl.h"
#include "sched/ctld/job_env.h"

namespace corral::ctld {

namespace {

JobRecord ToRecord(const Job& j) {
  JobRecord r;
  r.job_id = j.id;
  r.name = j.spec.name;
  r.user = j.spec.user;
  r.account = j.spec.account;
  r.partition = j.spec.partition;
  r.nodelist = j.Nodelist();
  r.state = JobStateName(j.state);
  r.nnodes = static_cast<int32_t>(j.alloc.size());
  std::set<std::string> models;
  for (const auto& a : j.alloc) {
    r.ncpus += a.cpus;
    r.ngpus += static_cast<int32_t>(a.gpu_indices.size());
  }
  if (r.ngpus > 0) r.gpu_models = j.spec.gpu_model.empty() ? "any" : j.spec.gpu_model;
  r.exit_code = j.exit_code;
  r.submit_ms = j.submit_ms;
  r.start_ms = j.start_ms;
  r.end_ms = j.end_ms;
  TimeMs elapsed = j.start_ms > 0 && j.end_ms > j.start_ms ? j.end_ms - j.start_ms : 0;
  r.cpu_ms = elapsed * r.ncpus;
  r.gpu_ms = elapsed * r.ngpus;
  return r;
}

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
}

}  // namespace

Status Controller::Impl::Load() {
  auto loaded_nodes = store->LoadNodes();
  if (!loaded_nodes.ok()) return loaded_nodes.status();
  started_ms = WallNowMs();
  for (auto& p : *loaded_nodes) {
    NodeEntry e;
    e.profile = p;
    e.free = sched::NodeView::Idle(p);
    e.free.up = false;
    e.down_since_ms = started_ms;
    nodes[p.name] = std::move(e);
  }
  auto loaded = store->LoadJobs();
  if (!loaded.ok()) return loaded.status();
  for (auto& j : *loaded) {
    next_id = std::max(next_id, j.id + 1);
    if (j.state == JobState::kPending) FileJob(j);
    if (j.state == JobState::kRunning) {
      for (const auto& a : j.alloc) {
        auto it = nodes.find(a.node);
        if (it == nodes.end()) continue;
        it->second.jobs.insert(j.id);
      }
    }
    if (IsTerminal(j.state) && !j.accounted) to_account.push_back(j.id);
    if (!IsTerminal(j.state)) NoteActive(j, true);
    if (j.state == JobState::kCompleted && j.start_ms > 0 && j.end_ms > j.start_ms) {
      runtimes.Record(j.spec.user, j.end_ms - j.start_ms);
    }
    if (j.spec.array_job_id > 0) {
      arrays[j.spec.array_job_id].push_back(j.id);
      if (j.state == JobState::kRunning) array_running[j.spec.array_job_id]++;
    }
    jobs.emplace(j.id, std::move(j));
  }
  // Free resources follow from the running jobs.
  for (auto& [name, n] : nodes) {
    std::vector<sched::NodeView> v{sched::NodeView::Idle(n.profile)};
    for (JobId id : n.jobs) {
      for (const auto& a : jobs[id].alloc)
        if (a.node == name) sched::Reserve({a}, &v);
    }
    n.free = v[0];
    n.free.up = false;
  }
  auto max_id = store->MaxJobId();
  if (max_id.ok()) next_id = std::max(next_id, *max_id + 1);
  return Status::Ok();
}

void Controller::Impl::ReconcileAccounting() {
  if (to_account.empty()) return;
  // A finished job whose row may or may not have reached HDF5 before a crash: write it only
  // if the table does not already hold it, so it is written once.
  std::set<JobId> present;
  {
    std::lock_guard<std::mutex> l(acct_mu);
    auto rows = acct->ReadAll();
    if (rows.ok()) {
      for (const auto& r : *rows) present.insert(r.job_id);
    }
  }
  std::vector<JobId> missing;
  for (JobId id : to_account) {
    if (present.count(id)) {
      accounted.push_back(id);
    } else {
      missing.push_back(id);
    }
  }
  to_account = missing;
  spdlog::info("accounting: {} finished job(s) to write after restart", missing.size());
}

void Controller::Impl::WriterLoop() {
  TimeMs last_tick = 0;
  for (;;) {
    std::deque<Command> cmds;
    {
      std::unique_lock<std::mutex> l(q_mu);
      // A deferred scheduling pass is due sooner than the next tick.
      auto wake = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts.heartbeat_ms);
      if (pass_due) wake = std::min(wake, next_pass_at);
      q_cv.wait_until(l, wake, [&] { return stopping || !queue.empty(); });
      if (stopping && queue.empty()) return;
      // Group commit: take up to 4096 waiting commands into one transaction.
      while (!queue.empty() && cmds.size() < 4096) {
        cmds.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    TimeMs now = MonotonicNowMs();
    bool tick = now - last_tick >= opts.heartbeat_ms;
    if (tick) last_tick = now;
    ApplyBatch(cmds, tick);
  }
}

void Controller::Impl::ApplyBatch(std::deque<Command>& cmds, bool tick) {
  Batch b;
  if (Status s = store->Begin(); !s.ok()) {
    spdlog::critical("state store: cannot begin a transaction: {}", s.message());
    std::abort();
  }
  for (JobId id : accounted) {
    auto it = jobs.find(id);
    if (it == jobs.end()) continue;
    it->second.accounted = true;
    (void)store->PutJob(it->second);
  }
  accounted.clear();
  for (auto& c : cmds) c(b);
  TimeMs now = WallNowMs();
  if (tick) Tick(b, now);
  if (b.schedule || tick || pass_due) {
    // A pass looks at every pending job, so its cost grows with the queue. Passes are spaced so
    // that they take at most a fifth of the writer's time: the next one runs no sooner than 4x
    // the last one's cost after it ends; one asked for meanwhile runs then (WriterLoop wakes
    // for it). With a short queue the gap is microseconds.
    auto t0 = std::chrono::steady_clock::now();
    if (t0 >= next_pass_at) {
      Schedule(b, now, tick);
      auto t1 = std::chrono::steady_clock::now();
      next_pass_at = t1 + 4 * (t1 - t0);
      pass_due = false;
    } else {
      pass_due = true;
    }
  }
  if (Status s = store->Commit(); !s.ok()) {
    // Nothing in this batch was acknowledged; the process restarts from the last commit.
    spdlog::critical("state store: commit failed: {}", s.message());
    std::abort();
  }
  Publish(b);
  for (auto& [ch, msg] : b.outbox) {
    if (ch) ch->Send(msg);
  }
  for (auto& f : b.after_commit) f();
  // Accounting rows for jobs that finished in this batch (and any left from before).
  if (!to_account.empty()) {
    std::vector<JobRecord> rows;
    for (JobId id : to_account) rows.push_back(ToRecord(jobs[id]));
    Status s;
    {
      std::lock_guard<std::mutex> l(acct_mu);
      s = acct->Append(rows);
    }
    if (s.ok()) {
      accounted.insert(accounted.end(), to_account.begin(), to_account.end());
      to_account.clear();
    } else {
      spdlog::error("accounting: append failed, will retry: {}", s.message());
    }
  }
}

void Controller::Impl::Persist(const Job& j, Batch& b) {
  if (Status s = store->PutJob(j); !s.ok()) {
    spdlog::critical("state store: writing job {}: {}", j.id, s.message());
    std::abort();
  }
  b.changed_jobs.insert(j.id);
}

void Controller::Impl::Finish(Job& j, JobState st, int32_t exit_code, TimeMs end,
                              const std::string& reason, Batch& b) {
  if (!CanTransition(j.state, st)) return;
  JobState old = j.state;
  j.state = st;
  j.exit_code = exit_code;
  j.end_ms = end;
  j.reason = reason;
  if (old == JobState::kPending) {
    pending.erase(j.id);
    held.erase(j.id);
    dep_wait.erase(j.id);
  }
  deps_dirty = true;
  if (old == JobState::kRunning) ReleaseNodes(j, b);
  if (st == JobState::kCompleted && j.start_ms > 0 && end > j.start_ms) {
    runtimes.Record(j.spec.user, end - j.start_ms);
  }
  NoteActive(j, false);
  Persist(j, b);
  to_account.push_back(j.id);
  b.schedule = true;
}

void Controller::Impl::ReleaseNodes(const Job& j, Batch& b) {
  if (j.spec.array_job_id > 0) array_running[j.spec.array_job_id]--;
  for (const auto& a : j.alloc) {
    auto it = nodes.find(a.node);
    if (it == nodes.end() || !it->second.jobs.count(j.id)) continue;
    std::vector<sched::NodeView> v{it->second.free};
    sched::Unreserve({a}, &v);
    it->second.free = v[0];
  }
  for (const auto& a : j.alloc) {
    auto it = nodes.find(a.node);
    if (it != nodes.end()) it->second.jobs.erase(j.id);
  }
  b.nodes_changed = true;
}

std::vector<JobId> Controller::Impl::Expand(JobId id) const {
  auto it = arrays.find(id);
  if (it != arrays.end()) return it->second;
  return {id};
}

void Controller::Impl::Start(Job& j, Allocation alloc, TimeMs now, Batch& b) {
  j.state = JobState::kRunning;
  j.alloc = std::move(alloc);
  j.start_ms = now;
  j.estimate_ms =
      runtimes.Estimate(opts.scheduler.runtime_model, j.spec.user, j.spec.time_limit_ms);
  j.reason.clear();
  pending.erase(j.id);
  deps_dirty = true;  // "after" dependencies wait for a start
  if (j.spec.array_job_id > 0) array_running[j.spec.array_job_id]++;
  Persist(j, b);
  b.nodes_changed = true;
  // Built once: the nodes' launches differ only in which runs the batch script.
  v1::ControllerMessage launch = LaunchMessage(j, j.alloc.empty() ? "" : j.alloc[0].node);
  std::set<std::string> told;
  for (const auto& a : j.alloc) {
    NodeEntry& n = nodes[a.node];
    n.jobs.insert(j.id);
    if (!told.insert(a.node).second) continue;  // one launch per node
    launch.mutable_launch()->set_batch_host(a.node == j.alloc[0].node && !j.spec.interactive);
    b.outbox.emplace_back(n.channel, launch);
  }
}

v1::ControllerMessage Controller::Impl::LaunchMessage(const Job& j, const std::string& node) {
  // The node needs the script, environment and arguments, which are kept in the store.
  // The tasks of an array share one payload and usually start one after another: keep the
  // last one loaded.
  if (payload_cache_id != j.payload_id) {
    payload_cache = JobSpec();
    if (Status s = store->GetPayload(j.payload_id, &payload_cache); !s.ok()) {
      spdlog::error("job {}: {}", j.id, s.message());
    }
    payload_cache_id = j.payload_id;
  }
  JobSpec full = j.spec;
  full.script = payload_cache.script;
  full.env = payload_cache.env;
  full.args = payload_cache.args;
  v1::ControllerMessage m;
  auto* l = m.mutable_launch();
  *l->mutable_job() = MakeInfo(j);
  ToProto(full, l->mutable_job()->mutable_spec());
  for (const auto& [key, val] : JobEnvironment(j, address)) {
    auto* e = l->add_env();
    e->set_key(key);
    e->set_value(val);
  }
  // `corral run` allocations run no script: their steps come through Exec.
  l->set_batch_host(!j.alloc.empty() && j.alloc[0].node == node && !j.spec.interactive);
  return m;
}

void Controller::Impl::StopOnNodes(const Job& j, const std::string& except, Batch& b) {
  for (const auto& a : j.alloc) {
    if (a.node == except) continue;
    v1::ControllerMessage m;
    m.mutable_cancel()->set_job_id(j.id);
    b.outbox.emplace_back(nodes[a.node].channel, std::move(m));
  }
}

void Controller::Impl::FileJob(const Job& j) {
  if (j.spec.hold) {
    held.insert(j.id);
  } else if (!j.spec.dependencies.empty()) {
    dep_wait.insert(j.id);
    deps_dirty = true;
  } else {
    pending.insert(j.id);
  }
}

void Controller::Impl::Tick(Batch& b, TimeMs now) {
  ExpireReservations(now, b);
  ChargeUsage(now);
  if (Status s = PersistUsage(now, false); !s.ok()) {
    spdlog::error("state store: fair-share usage: {}", s.message());
  }
  // `corral run` allocations have no batch script for a node to time out: do it here.
  std::vector<JobId> expired;
  for (const auto& [name, n] : nodes) {
    for (JobId id : n.jobs) {
      const Job& j = jobs[id];
      if (j.spec.interactive && j.spec.time_limit_ms > 0 &&
          now - j.start_ms > j.spec.time_limit_ms && j.state == JobState::kRunning) {
        expired.push_back(id);
      }
    }
  }
  for (JobId id : expired) {
    Job& j = jobs[id];
    if (j.state != JobState::kRunning) continue;
    StopOnNodes(j, "", b);
    Finish(j, JobState::kTimeout, 0, now, "time limit reached", b);
  }
  for (auto& [name, n] : nodes) {
    if (n.connected && n.verification == "pending" && now > n.verify_deadline_ms) {
      FailCheck(name, n,
                std::string("no ") + (n.AwaitingOpening() ? "opening" : "answer") +
                    " to the GPU check within " + std::to_string(opts.verify.timeout_ms / 1000) +
                    " s",
                b);
    }
    if (n.connected && now - n.last_seen_ms > opts.node_timeout_ms) {
      spdlog::warn("node {}: no heartbeat for {} ms; marking it down", name, now - n.last_seen_ms);
      n.connected = false;
      n.channel.reset();
      n.down_since_ms = now;
      b.nodes_changed = true;
    }
    if (!n.connected && !n.jobs.empty() && now - n.down_since_ms > opts.node_timeout_ms) {
      std::vector<JobId> lost(n.jobs.begin(), n.jobs.end());
      for (JobId id : lost) LoseJob(jobs[id], "node " + name + " is down", now, b);
    }
  }
}

std::string Controller::Impl::CheckSpec(const JobSpec& s) const {
  std::vector<NodeProfile> profiles;
  for (const auto& [name, n] : nodes) profiles.push_back(n.profile);
  Status st = sched::CheckFeasible(s, profiles);
  if (!st.ok()) return st.message();
  if (s.name.empty() || s.name.size() > 256) return "--job-name: must be 1 to 256 characters";
  for (char ch : s.name) {
    if (static_cast<unsigned char>(ch) < 0x20) {
      return "--job-name: control characters are not allowed";
    }
  }
  if (s.output.size() > 4096 || s.error.size() > 4096 || s.workdir.size() > 4096) {
    return "--output/--error/--chdir: paths are limited to 4096 characters";
  }
  if (s.script.empty() && !s.interactive) return "script: empty; give a script file or --wrap";
  if (s.array_indices.size() > 1000000) return "--array: more than 1000000 tasks";
  for (int32_t i : s.array_indices) {
    if (i < 0) return "--array: negative index " + std::to_string(i);
  }
  if (s.array_throttle < 0) return "--array: the %limit must not be negative";
  if (s.dependencies.size() > 1000) return "--dependency: more than 1000 jobs";
  for (const auto& d : s.dependencies) {
    if (d.type == "singleton") {
      if (d.job_id != 0) return "--dependency: singleton takes no job id";
      continue;
    }
    if (d.type != "after" && d.type != "afterok" && d.type != "afternotok" &&
        d.type != "afterany" && d.type != "aftercorr") {
      return "--dependency: unknown type \"" + d.type.substr(0, 32) + "\"";
    }
    if (!jobs.count(d.job_id)) {
      return "--dependency: job " + std::to_string(d.job_id) + " does not exist";
    }
  }
  if (s.script.size() > (4 << 20)) return "script: larger than 4 MiB";
  if (!s.workdir.empty() && s.workdir[0] != '/') return "--chdir: must be an absolute path";
  if (s.time_limit_ms < 0) return "--time: must not be negative";
  if (s.signal < 0 || s.signal > 64 || s.signal_secs < 0 || s.signal_secs > 65535) {
    return "--signal: SIG must be 1 to 64 and SECS 0 to 65535";
  }
  if (!qos.count(sched::QosOf(s))) {
    std::string known;
    for (const auto& [name, q] : qos) known += (known.empty() ? "" : ", ") + name;
    return "--qos: no QOS named \"" + s.qos.substr(0, 64) + "\" (defined: " + known + ")";
  }
  if (s.nice < 0 || s.nice > 10000000) {
    return "--nice: must be 0 to 10000000 (it lowers the job's priority; raising it is for "
           "admins)";
  }
  return "";
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
  if (auto r = reserved.find(j.id); r != reserved.end() && j.state == JobState::kPending) {
    info.set_expected_start_ms(r->second.start);
  }
  for (const auto& a : j.alloc) ToProto(a, info.add_alloc());
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
  } else if (n.verification.rfind("failed", 0) == 0) {
    st = NodeState::kFailed;
  } else if (used_cpus >= n.profile.cpus && n.profile.cpus > 0) {
    st = NodeState::kAllocated;
  } else if (used_cpus > 0 || used_gpus > 0) {
    st = NodeState::kMixed;
  }
  ni.set_state(NodeStateName(st));
  for (JobId id : n.jobs) ni.add_jobs(id);
  ni.set_verification(n.verification);
  for (const auto& c : n.gpu_checks) *ni.add_gpu_checks() = c;
  return ni;
}

void Controller::Impl::Publish(const Batch& b) {
  std::vector<std::pair<JobId, JobView>> views;
  views.reserve(b.changed_jobs.size());
  for (JobId id : b.changed_jobs) views.emplace_back(id, JobView(MakeInfo(jobs[id])));
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
    if (b.nodes_changed) view_nodes = std::move(node_infos);
    if (!views.empty()) {
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
    const JobView& j = view_jobs.at(w.ids[w.first_open]);
    bool there = w.until_running ? j.state() != JobState::kPending : IsTerminal(j.state());
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
    const JobView& j = view_jobs.at(w.ids[i]);
    bool there = w.until_running ? j.state() != JobState::kPending : IsTerminal(j.state());
    if (i < 1000 || !there || j.exit_code() != 0) j.Info(reply.add_jobs());
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

// ---------------------------------------------------------------------------------------------

Controller::Controller(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Controller::~Controller() {
  {
    std::lock_guard<std::mutex> l(impl_->q_mu);
    impl_->stopping = true;
  }
  impl_->q_cv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
  {
    std::unique_lock<std::shared_mutex> l(impl_->view_mu);
    impl_->timer_stop = true;
  }
  impl_->timer_cv.notify_all();
  if (impl_->timer.joinable()) impl_->timer.join();
  // Calls still waiting are answered; their clients ask again, of the next controller.
  for (auto& [deadline, w] : impl_->waiters) {
    if (w->done) w->done(Status::Unavailable("the controller is stopping"));
  }
}

Result<std::unique_ptr<Controller>> Controller::Open(const ControllerOptions& opts) {
  auto impl = std::make_unique<Impl>();
  impl->opts = opts;
  impl->address = opts.address;
  auto store = Store::Open(opts.state_dir);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  auto acct = AccountingWriter::Open(opts.state_dir + "/accounting.h5");
  if (!acct.ok()) return acct.status();
  impl->acct = std::move(*acct);
  if (Status s = impl->Load(); !s.ok()) return s;
  if (Status s = impl->LoadQos(); !s.ok()) return s;
  if (Status s = impl->LoadPartitions(); !s.ok()) return s;
  if (Status s = impl->LoadReservations(); !s.ok()) return s;
  if (Status s = impl->LoadFairShare(); !s.ok()) return s;
  impl->ReconcileAccounting();
  // Publish everything loaded before serving.
  Batch all;
  for (const auto& [id, j] : impl->jobs) all.changed_jobs.insert(id);
  all.nodes_changed = true;
  impl->Publish(all);
  for (const auto& [first, tasks] : impl->arrays) {
    impl->view_arrays[first] = std::vector<JobId>(tasks.begin(), tasks.end());
  }
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  impl->timer = std::thread([raw] { raw->TimerLoop(); });
  spdlog::info("state: {} job(s), {} node(s) loaded from {}", impl->jobs.size(), impl->nodes.size(),
               opts.state_dir);
  return std::unique_ptr<Controller>(new Controller(std::move(impl)));
}

void Controller::SetAddress(const std::string& address) {
  impl_->Run<bool>([this, address](Batch&) {
    impl_->address = address;
    return true;
  });
}

// Whether two jobs carry the same payload: script, environment and arguments.
static bool SamePayload(const v1::JobSpec& a, const v1::JobSpec& b) {
  if (a.script() != b.script() || a.env_size() != b.env_size() || a.args_size() != b.args_size())
    return false;
  for (int i = 0; i < a.env_size(); ++i) {
    if (a.env(i).key() != b.env(i).key() || a.env(i).value() != b.env(i).value()) return false;
  }
  for (int i = 0; i < a.args_size(); ++i) {
    if (a.args(i) != b.args(i)) return false;
  }
  return true;
}

Result<std::vector<int64_t>> Controller::Submit(
    const google::protobuf::RepeatedPtrField<v1::JobSpec>& specs) {
  if (specs.empty()) return Status::Invalid("submit: no jobs in the request");
  std::vector<JobSpec> parsed;
  parsed.reserve(specs.size());
  // A job whose payload equals the one before it in the request shares that job's; its env and
  // args are not copied (a batch of 100,000 equal jobs would copy the environment 100,000 times).
  std::vector<bool> same_as_previous(specs.size(), false);
  for (int i = 0; i < specs.size(); ++i) {
    same_as_previous[i] = i > 0 && SamePayload(specs[i], specs[i - 1]);
    parsed.push_back(FromProto(specs[i], !same_as_previous[i]));
    // Fields only the controller sets.
    parsed.back().array_job_id = 0;
    parsed.back().array_task_id = -1;
  }
  using R = Result<std::vector<int64_t>>;
  return impl_->Run<R>([this, parsed = std::move(parsed),
                        same_as_previous = std::move(same_as_previous)](Batch& b) mutable -> R {
    Impl& I = *impl_;
    for (size_t i = 0; i < parsed.size(); ++i) {
      std::string why = I.CheckSpec(parsed[i]);
      if (why.empty()) why = I.AdmitToAccount(parsed[i]);
      if (why.empty()) why = I.AdmitToPartition(parsed[i]);
      if (why.empty()) why = I.AdmitToReservation(parsed[i]);
      if (!why.empty()) {
        return Status::Invalid(parsed.size() > 1 ? "job " + std::to_string(i) + ": " + why : why);
      }
    }
    std::vector<int64_t> ids;
    ids.reserve(parsed.size());
    TimeMs now = WallNowMs();
    std::vector<std::pair<JobId, std::vector<JobId>>> new_arrays;
    for (size_t i = 0; i < parsed.size(); ++i) {
      JobSpec& spec = parsed[i];
      JobId first = I.next_id;
      JobId payload_id = first;
      if (same_as_previous[i]) {
        payload_id = I.last_payload_id;  // the previous job's, stored or shared just now
      } else if (std::string payload = Store::EncodePayload(spec);
                 I.last_payload_id > 0 && payload == I.last_payload) {
        payload_id = I.last_payload_id;
      } else if (Status s = I.store->PutPayload(first, payload); !s.ok()) {
        spdlog::critical("state store: writing job {}: {}", first, s.message());
        std::abort();
      } else {
        I.last_payload = std::move(payload);
        I.last_payload_id = first;
      }
      spec.script.clear();
      spec.script.shrink_to_fit();
      spec.env.clear();
      spec.env.shrink_to_fit();
      spec.args.clear();
      std::vector<int32_t> indices = std::move(spec.array_indices);
      spec.array_indices.clear();
      const char* reason = spec.hold                    ? "JobHeldUser"
                           : !spec.dependencies.empty() ? "Dependency"
                           : I.nodes.empty()            ? "Nodes: none registered yet"
                                                        : "Priority";
      auto add = [&](int32_t task) {
        Job j;
        j.id = I.next_id++;
        j.spec = spec;
        if (task >= 0) {
          j.spec.array_job_id = first;
          j.spec.array_task_id = task;
        }
        j.payload_id = payload_id;
        j.submit_ms = now;
        j.reason = reason;
        I.Persist(j, b);
        I.FileJob(j);
        I.NoteActive(j, true);
        JobId id = j.id;
        I.jobs.emplace(id, std::move(j));
        return id;
      };
      if (indices.empty()) {
        add(-1);
      } else {
        std::vector<JobId> tasks;
        tasks.reserve(indices.size());
        for (int32_t t : indices) tasks.push_back(add(t));
        I.arrays[first] = tasks;
        new_arrays.emplace_back(first, std::move(tasks));
      }
      ids.push_back(first);
    }
    if (!new_arrays.empty()) {
      std::unique_lock<std::shared_mutex> l(I.view_mu);
      for (auto& [first, tasks] : new_arrays) I.view_arrays[first] = std::move(tasks);
    }
    b.schedule = true;
    return ids;
  });
}

// Calls fn(job, in_array) for each job the ids name (an array's first id names every task),
// after the checks Cancel and Release share; errors go to `errors`, one per id.
template <typename Fn>
static void ForEachNamedJob(Controller::Impl& I,
                            const google::protobuf::RepeatedField<int64_t>& ids,
                            const std::string& user,
                            google::protobuf::RepeatedPtrField<std::string>* errors, Fn fn) {
  for (int64_t asked : ids) {
    bool array = I.arrays.count(asked) > 0;
    for (JobId id : I.Expand(asked)) {
      auto it = I.jobs.find(id);
      if (it == I.jobs.end()) {
        errors->Add("job " + std::to_string(id) + ": no such job");
      } else if (!user.empty() && it->second.spec.user != user) {
        errors->Add("job " + std::to_string(id) + ": belongs to another user");
      } else if (std::string why = fn(it->second); !why.empty() && !array) {
        // Tasks of an array that the action does not apply to are skipped quietly.
        errors->Add("job " + std::to_string(id) + ": " + why);
      }
    }
  }
}

v1::CancelReply Controller::Cancel(const v1::CancelRequest& req) {
  return Impl::Await<v1::CancelReply>(
      [&](std::function<void(v1::CancelReply)> done) { Cancel(req, std::move(done)); });
}

void Controller::Cancel(const v1::CancelRequest& req, std::function<void(v1::CancelReply)> done) {
  impl_->RunAsync<v1::CancelReply>(
      [this, req](Batch& b) {
        Impl& I = *impl_;
        v1::CancelReply reply;
        TimeMs now = WallNowMs();
        ForEachNamedJob(I, req.ids(), req.user(), reply.mutable_errors(), [&](Job& j) {
          if (IsTerminal(j.state)) return std::string("already ") + JobStateName(j.state);
          bool was_running = j.state == JobState::kRunning;
          if (was_running) I.StopOnNodes(j, "", b);
          I.Finish(j, JobState::kCancelled, was_running ? 128 + 15 : 0, now, "cancelled by user",
                   b);
          reply.add_cancelled(j.id);
          return std::string();
        });
        return reply;
      },
      std::move(done));
}

v1::ReleaseReply Controller::Release(const v1::ReleaseRequest& req) {
  return impl_->Run<v1::ReleaseReply>([this, req](Batch& b) {
    Impl& I = *impl_;
    v1::ReleaseReply reply;
    ForEachNamedJob(I, req.ids(), req.user(), reply.mutable_errors(), [&](Job& j) {
      if (j.state != JobState::kPending || !j.spec.hold) return std::string("not held");
      j.spec.hold = false;
      j.reason = j.spec.dependencies.empty() ? "Priority" : "Dependency";
      I.held.erase(j.id);
      I.FileJob(j);
      I.Persist(j, b);
      reply.add_released(j.id);
      return std::string();
    });
    b.schedule = true;
    return reply;
  });
}

v1::RequeueReply Controller::Requeue(const v1::RequeueRequest& req) {
  return impl_->Run<v1::RequeueReply>([this, req](Batch& b) {
    Impl& I = *impl_;
    v1::RequeueReply reply;
    ForEachNamedJob(I, req.ids(), req.user(), reply.mutable_errors(), [&](Job& j) {
      if (j.state != JobState::kRunning) {
        return std::string("is ") + JobStateName(j.state) + "; only running jobs are requeued";
      }
      if (j.spec.interactive) return std::string("is a corral run allocation; it is not requeued");
      if (!j.spec.requeue) return std::string("was submitted with --no-requeue");
      I.Requeue(j, "Requeued: by request", b);
      reply.add_requeued(j.id);
      return std::string();
    });
    return reply;
  });
}

Status Controller::Complete(const v1::CompleteRequest& req) {
  return impl_->Run<Status>([this, req](Batch& b) -> Status {
    Impl& I = *impl_;
    auto it = I.jobs.find(req.job_id());
    if (it == I.jobs.end()) {
      return Status::NotFound("job " + std::to_string(req.job_id()) + ": no such job");
    }
    Job& j = it->second;
    if (!j.spec.interactive) {
      return Status::FailedPrecondition("job " + std::to_string(j.id) +
                                        " is a batch job; it ends when its script does");
    }
    if (j.state != JobState::kRunning) {
      return Status::FailedPrecondition("job " + std::to_string(j.id) + " is " +
                                        JobStateName(j.state) + ", not RUNNING");
    }
    I.StopOnNodes(j, "", b);
    I.Finish(j, req.exit_code() == 0 ? JobState::kCompleted : JobState::kFailed, req.exit_code(),
             WallNowMs(), "", b);
    return Status::Ok();
  });
}

v1::ListJobsReply Controller::ListJobs(const v1::ListJobsRequest& req) const {
  v1::ListJobsReply reply;
  std::shared_lock<std::shared_mutex> l(impl_->view_mu);
  if (req.brief() && req.ids_size() == 0 && !req.include_finished() && req.user().empty()) {
    // The plain `corral queue`: served from the cached stream, one string copy.
    std::shared_ptr<const std::string> s;
    {
      std::lock_guard<std::mutex> g(impl_->stream_mu);
      s = impl_->active_stream;
    }
    if (!s) {
      size_t n = 0;
      for (JobId id : impl_->view_active) n += impl_->view_jobs.at(id).brief_entry().size();
      auto built = std::make_shared<std::string>();
      built->reserve(n);
      for (JobId id : impl_->view_active) built->append(impl_->view_jobs.at(id).brief_entry());
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
    for (int64_t id : req.ids()) {
      auto it = impl_->view_jobs.find(id);
      if (it != impl_->view_jobs.end()) add(it->second);
    }
  } else if (req.include_finished()) {
    std::vector<JobId> ids;
    ids.reserve(impl_->view_jobs.size());
    for (const auto& [id, j] : impl_->view_jobs) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (JobId id : ids) add(impl_->view_jobs.at(id));
  } else {
    for (JobId id : impl_->view_active) add(impl_->view_jobs.at(id));
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
        w->ids.insert(w->ids.end(), a->second.begin(), a->second.end());
      } else {
        w->ids.push_back(id);
      }
    }
    for (JobId id : w->ids) {
      if (!impl_->view_jobs.count(id)) {
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
  Result<std::vector<JobRecord>> rows = Status::Internal("unread");
  {
    std::lock_guard<std::mutex> l(impl_->acct_mu);
    rows = impl_->acct->ReadAll();
  }
  if (!rows.ok()) return rows.status();
  std::set<int64_t> want(req.ids().begin(), req.ids().end());
  v1::AcctReply reply;
  for (const auto& r : *rows) {
    if (!want.empty() && !want.count(r.job_id)) continue;
    if (!req.user().empty() && r.user != req.user()) continue;
    FillAcct(r, reply.add_records());
  }
  return reply;
}

void Controller::FindStepTarget(int64_t job_id, const std::string& node,
                                std::function<void(Result<StepTarget>)> done) const {
  // Served by the writer so the channel and the job's state are read consistently.
  using R = Result<StepTarget>;
  impl_->RunAsync<R>(
      [this, job_id, node](Batch&) -> R {
        auto it = impl_->jobs.find(job_id);
        if (it == impl_->jobs.end())
          return Status::NotFound("job " + std::to_string(job_id) + ": no such job");
        const Job& j = it->second;
        if (j.state != JobState::kRunning) {
          return Status::FailedPrecondition("job " + std::to_string(job_id) + " is " +
                                            JobStateName(j.state) + ", not RUNNING");
        }
        bool on = std::any_of(j.alloc.begin(), j.alloc.end(),
                              [&](const NodeAllocation& a) { return a.node == node; });
        if (!on) {
          return Status::Invalid("node " + node + ": not allocated to job " +
                                 std::to_string(job_id) + " (nodes: " + j.Nodelist() + ")");
        }
        auto nit = impl_->nodes.find(node);
        if (nit == impl_->nodes.end() || !nit->second.channel) {
          return Status::Unavailable("node " + node + " is not connected");
        }
        return StepTarget{nit->second.channel, impl_->MakeInfo(j)};
      },
      std::move(done));
}

}  // namespace corral::ctld
