// The controller's writer loop and the job life cycle. The commands that change jobs (cancel,
// release, requeue, complete) are in job_commands.cc, submission in submit.cc, compact arrays
// in arrays.cc, the published view and the reads in published_view.cc, what nodes report in
// node_events.cc, the scheduling pass's shell in scheduling.cc, dependencies in
// dependencies.cc, admin state in admin_*.cc and fair_share.cc.
#include "sched/ctld/controller.h"

#include <algorithm>

#include "common/log.h"
#include "common/time.h"
#include "fabric/convert.h"
#include "sched/core/fifo.h"
#include "sched/ctld/controller_impl.h"
#include "sched/ctld/job_env.h"

namespace corral::ctld {

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
      if (j.preempted_by != 0) preempting.insert(j.id);
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
    if (j.spec.array_job_id > 0 && j.state == JobState::kRunning) {
      array_running[j.spec.array_job_id]++;
    }
    jobs.emplace(j.id, std::move(j));
  }
  if (Status s = LoadArrays(); !s.ok()) return s;
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
  auto rows = acct_file->ReadAll();
  if (rows.ok()) {
    for (const auto& r : *rows) present.insert(r.job_id);
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
  std::vector<JobId> written;
  {
    std::lock_guard<std::mutex> l(accounted_mu);
    written.swap(accounted);
  }
  for (JobId id : written) {
    steps_recorded.erase(id);
    auto it = jobs.find(id);
    if (it != jobs.end()) {
      it->second.accounted = true;
      (void)store->PutJob(it->second);
    } else if (JobArray* a = ArrayOf(id); a && !a->templ().accounted) {
      a->templ().accounted = true;  // a cancelled rest: its rows go in together
      (void)store->PutArray(*a);
    }
  }
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
  // Accounting rows for jobs that finished in this batch, with the steps and usage samples
  // that came in, to the sink's thread (acct_sink.h).
  if (!to_account.empty()) {
    acct_rows.jobs.reserve(to_account.size());
    Job scratch;
    for (JobId id : to_account) {
      if (const Job* j = Lookup(id, &scratch)) acct_rows.jobs.push_back(AcctRow(*j));
    }
    to_account.clear();
  }
  if (!acct_rows.empty()) {
    acct->Post(std::move(acct_rows));
    acct_rows = AccountingBatch{};
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
  preempting.erase(j.id);
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
  if (it == arrays.end()) return {id};
  std::vector<JobId> all;
  all.reserve(it->second.size());
  for (JobId t = it->second.first(); t <= it->second.last(); ++t) all.push_back(t);
  return all;
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
  // The mesh addresses of the job's nodes: a node opens its firewall to them while the job runs
  // (launcher/mesh.h), so that the job's ports are closed to the rest of the mesh.
  std::string peers;
  for (const auto& a : j.alloc) {
    auto it = nodes.find(a.node);
    if (it == nodes.end() || it->second.profile.overlay_ip.empty()) continue;
    peers += (peers.empty() ? "" : ",") + it->second.profile.overlay_ip;
  }
  if (!peers.empty()) {
    auto* e = l->add_env();
    e->set_key("CORRAL_OVERLAY_PEERS");
    e->set_value(peers);
  }
  // The job's own credential, for corral commands and MPI's launch agent inside it: its
  // user's, until a day after its time limit (a month for a job without one).
  const TimeMs limit = j.spec.time_limit_ms > 0 ? j.spec.time_limit_ms : 30LL * 86400 * 1000;
  auto* tok = l->add_env();
  tok->set_key("CORRAL_JOB_TOKEN");
  tok->set_value(access->JobToken(j.id, j.spec.user, WallNowMs() + limit + 86400 * 1000));
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
  ExpirePreemptions(now, b);
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
  TickGpuChecks(now, b);
  for (auto& [name, n] : nodes) {
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

// ---------------------------------------------------------------------------------------------

Controller::Controller(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Controller::~Controller() {
  {
    std::lock_guard<std::mutex> l(impl_->q_mu);
    impl_->stopping = true;
  }
  impl_->q_cv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
  impl_->acct.reset();  // writes what the writer posted
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
  impl->access = opts.access ? opts.access : std::make_shared<AccessTable>(pki::RandomHex(32), "");
  auto store = Store::Open(opts.state_dir);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  auto acct = AccountingWriter::Open(opts.state_dir + "/accounting.h5");
  if (!acct.ok()) return acct.status();
  impl->acct_file = std::move(*acct);
  if (Status s = impl->Load(); !s.ok()) return s;
  if (Status s = impl->LoadQos(); !s.ok()) return s;
  if (Status s = impl->LoadPartitions(); !s.ok()) return s;
  if (Status s = impl->LoadNodeHolds(); !s.ok()) return s;
  if (Status s = impl->LoadAccess(); !s.ok()) return s;
  if (Status s = impl->LoadReservations(); !s.ok()) return s;
  if (Status s = impl->LoadFairShare(); !s.ok()) return s;
  impl->ReconcileAccounting();
  Impl* raw = impl.get();
  impl->acct =
      std::make_unique<AcctSink>(std::move(impl->acct_file), [raw](std::vector<JobId> ids) {
        std::lock_guard<std::mutex> l(raw->accounted_mu);
        raw->accounted.insert(raw->accounted.end(), ids.begin(), ids.end());
      });
  // Publish everything loaded before serving.
  Batch all;
  for (const auto& [id, j] : impl->jobs) all.changed_jobs.insert(id);
  for (const auto& [first, a] : impl->arrays) all.changed_arrays.insert(first);
  all.nodes_changed = true;
  impl->Publish(all);
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  impl->timer = std::thread([raw] { raw->TimerLoop(); });
  spdlog::info("state: {} job(s), {} node(s) loaded from {}", impl->jobs.size(), impl->nodes.size(),
               opts.state_dir);
  return std::unique_ptr<Controller>(new Controller(std::move(impl)));
}

const AccessTable& Controller::access() const {
  return *impl_->access;
}

void Controller::SetAddress(const std::string& address) {
  impl_->Run<bool>([this, address](Batch&) {
    impl_->address = address;
    return true;
  });
}

}  // namespace corral::ctld
