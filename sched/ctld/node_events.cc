// What nodes tell the controller: registrations, job ends, GPU check answers. Methods of
// Controller::Impl, applied on the writer thread inside a batch (controller_impl.h).
#include <algorithm>

#include "common/log.h"
#include "common/node.h"
#include "common/time.h"
#include "fabric/convert.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

void Controller::Impl::ApplyNodeMessage(const std::string& node, const v1::NodeMessage& msg,
                                        Batch& b) {
  auto nit = nodes.find(node);
  if (nit == nodes.end()) return;
  NodeEntry& n = nit->second;
  n.last_seen_ms = WallNowMs();
  if (msg.has_heartbeat()) {
    // Usage samples: only for a run of a job this node holds now.
    for (const v1::JobUsage& u : msg.heartbeat().usage()) {
      auto jt = jobs.find(u.job_id());
      if (jt == jobs.end() || !n.jobs.count(u.job_id()) || jt->second.state != JobState::kRunning ||
          jt->second.restarts != u.restarts()) {
        continue;
      }
      jt->second.usage[node] = u;
      b.changed_jobs.insert(u.job_id());
      RecordUsage(node, u);
    }
  } else if (msg.has_verify()) {
    ApplyVerifyReport(node, n, msg.verify(), b);
  } else if (msg.has_verify_opening()) {
    ApplyVerifyOpening(node, n, msg.verify_opening(), b);
  } else if (msg.has_step_exit()) {
    ApplyStepExit(node, msg.step_exit());
  } else if (msg.has_finished()) {
    ApplyFinished(node, msg.finished(), b);
    v1::ControllerMessage ack;
    ack.mutable_ack_finished()->set_job_id(msg.finished().job_id());
    b.outbox.emplace_back(n.channel, std::move(ack));
  }
}

void Controller::Impl::ApplyFinished(const std::string& node, const v1::JobFinished& f, Batch& b) {
  auto it = jobs.find(f.job_id());
  if (it == jobs.end()) return;
  Job& j = it->second;
  // A node reports only for itself, and only for the run it was given: the job must be
  // placed on it now, and an earlier run's end (before a requeue) is old news.
  bool mine = std::any_of(j.alloc.begin(), j.alloc.end(),
                          [&](const NodeAllocation& a) { return a.node == node; });
  if (!mine || j.state != JobState::kRunning || f.restarts() != j.restarts) return;
  JobState st = JobState::kFailed;
  if (!ParseJobState(f.state(), &st) || !IsTerminal(st)) st = JobState::kFailed;
  // A victim of preemption ends as its preemption says, unless it finished its work first.
  if (j.preempted_by != 0 && st != JobState::kCompleted) {
    EndPreempted(j, f.exit_code(), f.end_ms() > 0 ? f.end_ms() : WallNowMs(), b);
    return;
  }
  if (f.has_usage()) {
    j.usage[node] = f.usage();
    RecordUsage(node, f.usage());
  }
  Finish(j, st, f.exit_code(), f.end_ms() > 0 ? f.end_ms() : WallNowMs(), f.reason(), b);
  // Other nodes of the job stop its steps and clean up.
  StopOnNodes(j, node, b);
}

void Controller::Impl::LoseJob(Job& j, const std::string& reason, TimeMs now, Batch& b) {
  if (j.state != JobState::kRunning) return;
  if (j.spec.requeue && !j.spec.interactive) {
    spdlog::warn("job {}: {}; requeued", j.id, reason);
    Requeue(j, "Requeued: " + reason, b);
    return;
  }
  StopOnNodes(j, "", b);
  Finish(j, JobState::kNodeFail, 1, now, reason, b);
}

void Controller::Impl::Requeue(Job& j, const std::string& reason, Batch& b) {
  if (!CanTransition(j.state, JobState::kPending)) return;
  StopOnNodes(j, "", b);
  ReleaseNodes(j, b);
  j.state = JobState::kPending;
  j.alloc.clear();
  j.start_ms = 0;
  j.usage.clear();  // the new run's own
  j.restarts++;
  j.reason = reason;
  deps_dirty = true;
  FileJob(j);
  Persist(j, b);
  b.schedule = true;
}

Status Controller::Impl::ApplyRegistration(const NodeProfile& p, const v1::NodeRegister& reg,
                                           std::shared_ptr<NodeChannel> channel, v1::Registered* ok,
                                           Batch& b) {
  TimeMs now = WallNowMs();
  auto it = nodes.find(p.name);
  if (it != nodes.end() && it->second.connected && it->second.channel &&
      it->second.channel != channel) {
    spdlog::warn("node {}: a second connection replaces the first", p.name);
  }
  NodeEntry& n = nodes[p.name];
  bool changed_shape = n.profile.cpus != p.cpus || n.profile.gpus.size() != p.gpus.size() ||
                       n.profile.mem_mib != p.mem_mib;
  bool same_gpus = n.profile.gpus.size() == p.gpus.size();
  for (size_t i = 0; same_gpus && i < p.gpus.size(); ++i) {
    same_gpus = n.profile.gpus[i].model == p.gpus[i].model;
  }
  n.profile = p;
  if (changed_shape && n.jobs.empty()) n.free = sched::NodeView::Idle(p);
  n.connected = true;
  n.channel = channel;
  n.last_seen_ms = now;
  if (Status s = store->PutNode(p, now); !s.ok()) return s;
  // First what ended while the link was down: those jobs ended, they were not lost.
  for (const auto& f : reg.finished()) ApplyFinished(p.name, f, b);
  // Then what a restart of the node lost.
  for (const auto& l : reg.lost()) {
    auto jt = jobs.find(l.job_id());
    if (jt == jobs.end() || !n.jobs.count(l.job_id()) || jt->second.restarts != l.restarts())
      continue;
    LoseJob(jt->second, l.reason().empty() ? "node " + p.name + " lost it" : l.reason(), now, b);
  }
  // Jobs the controller believes run here that the node does not name at all: their launch
  // never reached it (the link dropped between the commit and the send). Sent again.
  std::set<JobId> named;
  for (const auto& r : reg.running()) named.insert(r.job_id());
  for (JobId id : n.jobs) {
    if (named.count(id)) continue;
    const Job& j = jobs[id];
    spdlog::info("job {}: node {} never got its launch; sending it again", id, p.name);
    b.outbox.emplace_back(channel, LaunchMessage(j, p.name));
  }
  // GPUs are checked when first seen, when they change, and after a failed or unanswered
  // check; GPUs that passed in this controller's lifetime are not checked again.
  ok->set_heartbeat_ms(opts.heartbeat_ms);
  bool passed = n.verification == "verified" || n.verification == "simulated";
  if (p.gpus.empty()) {
    n.verification.clear();
    n.gpu_checks.clear();
  } else if (!passed || !same_gpus) {
    StartGpuCheck(n, now);
    *ok->mutable_verify() = n.challenge;
  }
  // Jobs the node runs that the controller no longer wants there (cancelled meanwhile, or an
  // earlier run of a requeued job): the node kills them.
  for (const auto& r : reg.running()) {
    auto jt = jobs.find(r.job_id());
    if (jt == jobs.end() || jt->second.state != JobState::kRunning || !n.jobs.count(r.job_id()) ||
        jt->second.restarts != r.restarts()) {
      ok->add_orphaned(r.job_id());
    }
  }
  b.nodes_changed = true;
  b.schedule = true;
  spdlog::info("node {} registered: {} cpus, {} MiB, {} gpus; {} running, {} ended, {} lost",
               p.name, p.cpus, p.mem_mib, p.gpus.size(), reg.running_size(), reg.finished_size(),
               reg.lost_size());
  return Status::Ok();
}

void Controller::NodeConnected(const v1::NodeRegister& reg, std::shared_ptr<NodeChannel> channel,
                               std::function<void(Result<v1::Registered>)> done) {
  NodeProfile p = FromProto(reg.profile());
  if (p.name.empty() || p.name.size() > 64) {
    return done(Status::Invalid("register: node name must be 1 to 64 characters"));
  }
  if (p.cpus <= 0 || p.mem_mib < 0) {
    return done(Status::Invalid("register: node " + p.name + " reports no CPUs"));
  }
  if (std::string why = CheckTerms(p.terms); !why.empty()) {
    return done(Status::Invalid("register: node " + p.name + ": " + why));
  }
  for (size_t i = 0; i < p.gpus.size(); ++i) p.gpus[i].index = static_cast<int32_t>(i);
  using R = Result<v1::Registered>;
  auto apply = [this, p, reg, channel](Batch& b) mutable -> R {
    // Its overlay address is the one its mesh certificate carries, whatever it claims: Nebula
    // admits a peer's packets only from its certificate's address (fabric/nebula.h).
    if (!p.overlay_ip.empty()) {
      std::string granted;
      for (const v1::NodeIdentity& n : impl_->access->Identities()) {
        if (n.name() == p.name) granted = n.overlay_ip();
      }
      p.overlay_ip = granted;
    }
    v1::Registered ok;
    if (Status s = impl_->ApplyRegistration(p, reg, channel, &ok, b); !s.ok()) return s;
    return ok;
  };
  impl_->RunAsync<R>(std::move(apply), std::move(done));
}

void Controller::NodeDisconnected(const std::string& node, const NodeChannel* channel) {
  impl_->Enqueue([this, node, channel](Batch& b) {
    auto it = impl_->nodes.find(node);
    if (it == impl_->nodes.end() || it->second.channel.get() != channel) return;
    it->second.connected = false;
    it->second.channel.reset();
    it->second.down_since_ms = WallNowMs();
    b.nodes_changed = true;
    spdlog::warn("node {} disconnected", node);
  });
}

void Controller::NodeMessage(const std::string& node, const v1::NodeMessage& msg) {
  if (msg.has_heartbeat() && msg.heartbeat().usage().empty()) {
    impl_->Enqueue([this, node](Batch&) {
      auto it = impl_->nodes.find(node);
      if (it != impl_->nodes.end()) it->second.last_seen_ms = WallNowMs();
    });
    return;
  }
  impl_->Enqueue([this, node, msg](Batch& b) { impl_->ApplyNodeMessage(node, msg, b); });
}

}  // namespace corral::ctld
