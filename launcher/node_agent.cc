#include "launcher/node_agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "common/files.h"
#include "common/log.h"
#include "common/time.h"
#include "fabric/channel.h"
#include "fabric/convert.h"
#include "launcher/node_agent_impl.h"
#include "launcher/provider_commands.h"

namespace corral {

namespace fs = std::filesystem;

void NodeAgent::Impl::Dispatch(const v1::ControllerMessage& m) {
  if (m.has_registered()) {
    heartbeat_ms = std::max<int64_t>(m.registered().heartbeat_ms(), 10);
    if (m.registered().has_verify()) QueueVerifyWork(m);
    for (int64_t id : m.registered().orphaned()) {
      spdlog::warn("job {}: the controller no longer wants it; killing it", id);
      CancelJob(id, true);
    }
  } else if (m.has_launch()) {
    Launch(m.launch());
  } else if (m.has_cancel()) {
    CancelJob(m.cancel().job_id(), true, m.cancel().grace_ms());
  } else if (m.has_start_step()) {
    StartStep(m.start_step());
  } else if (m.has_kill_step()) {
    std::lock_guard<std::mutex> l(mu);
    auto it = steps.find(m.kill_step().step_id());
    if (it != steps.end() && !it->second.exited) kill(-it->second.pid, SIGKILL);
  } else if (m.has_verify_open() || m.has_verify()) {
    QueueVerifyWork(m);
  } else if (m.has_attach_step()) {
    AttachStep(m.attach_step());
  } else if (m.has_ack_step()) {
    std::lock_guard<std::mutex> l(mu);
    step_io.erase(m.ack_step().step_id());
  } else if (m.has_tunnel()) {
    TunnelFrame(m.tunnel());
  } else if (m.has_ack_finished()) {
    std::lock_guard<std::mutex> l(mu);
    Forget(m.ack_finished().job_id(), -1);
  }
}

void NodeAgent::Impl::RunOnce() {
  auto channel = DialController(opts.controller, opts.creds);
  auto stub = v1::NodeLink::NewStub(channel);
  grpc::ClientContext context;
  // What this node knows, in its registration: the jobs it runs, the ends the controller has not
  // acknowledged and the jobs a restart of this agent lost. The controller applies them all
  // before it judges anything lost; its reply acknowledges the ends and losses listed.
  v1::NodeMessage reg;
  auto* r = reg.mutable_register_();
  ToProto(opts.profile, r->mutable_profile());
  {
    std::lock_guard<std::mutex> l(mu);
    // A new link, maybe to a new controller: a step's output is held until its client follows
    // it again there.
    for (auto& [id, io] : step_io) {
      std::lock_guard<std::mutex> g(io->mu);
      io->routed = false;
    }
    for (const auto& [id, j] : jobs) {
      auto* run = r->add_running();
      run->set_job_id(id);
      run->set_restarts(j.info.restarts());
    }
    for (const auto& [id, f] : unacked) *r->add_finished() = f;
    for (const auto& [id, l] : lost) *r->add_lost() = l;
  }
  bool ok;
  {
    // The registration is the stream's first message: nothing else may be written before it.
    std::lock_guard<std::mutex> l(link_mu);
    ctx = &context;
    stream = stub->Connect(&context);
    ok = stream->Write(reg);
  }
  // Heartbeats until the link ends; woken at once then, so that a lost link is redialled
  // without waiting out the interval.
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  bool link_up = ok;
  std::thread hb([&] {
    std::unique_lock<std::mutex> l(hb_mu);
    while (!hb_cv.wait_for(l, std::chrono::milliseconds(heartbeat_ms),
                           [&] { return !link_up || stopping; })) {
      l.unlock();
      v1::NodeMessage m;
      m.mutable_heartbeat()->set_now_ms(WallNowMs());
      for (v1::JobUsage& u : FreshUsage()) *m.mutable_heartbeat()->add_usage() = std::move(u);
      bool sent = Send(m);
      l.lock();
      if (!sent) break;
    }
  });
  v1::ControllerMessage in;
  bool registered = false;
  bool read_ended = false;
  while (ok) {
    if (!stream->Read(&in)) {
      read_ended = true;
      break;
    }
    if (in.has_registered() && !registered) {
      registered = true;
      spdlog::info("registered with {} as {}", opts.controller, opts.profile.name);
      std::lock_guard<std::mutex> l(mu);
      for (const auto& f : r->finished()) Forget(f.job_id(), f.restarts());
      for (const auto& lj : r->lost()) Forget(lj.job_id(), lj.restarts());
    }
    Dispatch(in);
  }
  {
    std::lock_guard<std::mutex> l(hb_mu);
    link_up = false;
  }
  hb_cv.notify_all();
  {
    // Their clients were on the far side of this link: a new link has none of them.
    std::lock_guard<std::mutex> l(mu);
    CloseTunnels(0);
  }
  grpc::Status st;
  {
    std::lock_guard<std::mutex> l(link_mu);
    // A stream whose reads ended has its status waiting; one that failed to send is cancelled.
    if (!read_ended) context.TryCancel();
    st = stream->Finish();
    stream.reset();
    ctx = nullptr;
  }
  hb.join();
  if (!stopping) {
    spdlog::warn("link to {} lost: {}", opts.controller,
                 st.ok() ? std::string("closed") : st.error_message());
  }
}

NodeAgent::NodeAgent(AgentOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
NodeAgent::~NodeAgent() = default;

Status NodeAgent::Run() {
  Impl& I = *impl_;
  std::string state = I.opts.state_dir.empty() ? I.opts.spool_dir + "/state" : I.opts.state_dir;
  auto journal = JobJournal::Open(state + "/jobs");
  if (!journal.ok()) return journal.status();
  I.journal = std::move(*journal);
  // Where `corral-node remove` finds this agent to stop it, once its node is drained.
  WriteNewFile(AgentPidFile(state), std::to_string(getpid()) + "\n", 0644);
  if (Status s = PrivateSpool(I.opts.spool_dir); !s.ok()) return s;
  // The cluster CA, for the corral commands and MPI launches of jobs (their CORRAL_CA).
  if (Status s = WriteFileAtomic(I.opts.spool_dir + "/ca.pem", I.opts.creds.ca_pem, 0644);
      !s.ok()) {
    return s;
  }
  if (I.opts.contain) {
    std::string why;
    // One spool directory is one agent's, across its restarts: its groups are named by it too,
    // so that agents of one node name on one host (two test clusters) keep apart.
    char tag[32];
    std::snprintf(tag, sizeof tag, "-%08zx",
                  std::hash<std::string>{}(I.opts.spool_dir) & 0xffffffffu);
    I.cgroups = Cgroups::Open(I.opts.profile.name + tag, &why);
    if (!I.cgroups) {
      spdlog::warn("jobs run without a cgroup (no memory or CPU limit is enforced): {}", why);
    } else {
      spdlog::info("jobs run in cgroup v{} groups", I.cgroups->version());
      // Left by an earlier agent of this node: what is in them is lost with it.
      for (const std::string& leaf : I.cgroups->Leaves()) {
        if (!I.Uncontain(leaf)) spdlog::warn("cgroup {} of an earlier run stays: busy", leaf);
      }
    }
  }
  I.Recover();
  // Orphaned descendants of jobs come back to us, so they can be reaped and found.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::thread reaper([&] { I.ReapLoop(); });
  std::thread watcher([&] { I.WatchLoop(); });
  int backoff = 100;
  while (!I.stopping) {
    TimeMs t0 = MonotonicNowMs();
    I.RunOnce();
    if (I.stopping) break;
    if (MonotonicNowMs() - t0 > 5000) backoff = 100;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff = std::min(backoff * 2, 2000);
  }
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> l(I.mu);
    for (const auto& [id, j] : I.jobs) ids.push_back(id);
  }
  for (int64_t id : ids) {
    std::vector<pid_t> leaders;
    std::string tag, cgroup;
    {
      std::lock_guard<std::mutex> l(I.mu);
      if (I.jobs[id].pid > 0) leaders.push_back(I.jobs[id].pid);
      tag = I.RunTag(I.jobs[id].info.restarts());
      cgroup = I.jobs[id].cgroup;
    }
    if (cgroup.empty()) {
      KillJobProcesses(id, tag, leaders, 1000);
    } else {
      I.KillContained(cgroup, 1000);
      I.Uncontain(cgroup);
    }
  }
  I.cv.notify_all();
  reaper.detach();
  watcher.join();
  if (I.verifier.joinable()) I.verifier.join();  // Stop() woke it
  return Status::Ok();
}

void NodeAgent::Stop() {
  impl_->stopping = true;
  {
    std::lock_guard<std::mutex> l(impl_->verify_mu);
    impl_->verify_cv.notify_all();
  }
  std::lock_guard<std::mutex> l(impl_->link_mu);
  if (impl_->ctx) impl_->ctx->TryCancel();
  impl_->cv.notify_all();
}

}  // namespace corral
