// Preemption in corrald: the pass decides (sched/core/preempt.h); here the victims' nodes are
// told, and a victim's end is turned into a requeue or PREEMPTED. A victim stays RUNNING, with
// its resources, until its batch host reports it gone, so that its preemptor never starts on
// a node still running it. Methods of Controller::Impl, on the writer thread.
#include <algorithm>

#include "common/log.h"
#include "common/time.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {

// How long past its grace time a victim may take to be reported gone: an allocation of
// `corral run` has no batch script to report (its steps are killed by the node meanwhile).
constexpr TimeMs kAllocationSlackMs = 5000;

}  // namespace

void Controller::Impl::ApplyPreemptions(const std::vector<sched::PreemptDecision>& decisions,
                                        TimeMs now, Batch& b) {
  for (const sched::PreemptDecision& d : decisions) {
    auto it = jobs.find(d.victim);
    if (it == jobs.end() || it->second.state != JobState::kRunning) continue;
    Job& v = it->second;
    if (v.preempted_by != 0) continue;
    v.preempted_by = d.preemptor;
    v.preempt_mode = d.terms.mode;
    v.preempt_deadline_ms = now + d.terms.grace_ms;
    const bool requeue = d.terms.mode == sched::PreemptMode::kRequeue;
    v.reason = "Preempted: by job " + std::to_string(d.preemptor) +
               (requeue ? "; requeued" : "; cancelled") + " once it ends (grace time " +
               FormatDuration(d.terms.grace_ms) + ")";
    preempting.insert(v.id);
    spdlog::info("job {}: preempted by job {} ({}, grace {} ms)", v.id, d.preemptor,
                 sched::PreemptModeName(d.terms.mode), d.terms.grace_ms);
    for (const NodeAllocation& a : v.alloc) {
      auto n = nodes.find(a.node);
      if (n == nodes.end()) continue;
      v1::ControllerMessage m;
      m.mutable_cancel()->set_job_id(v.id);
      m.mutable_cancel()->set_state("CANCELLED");
      m.mutable_cancel()->set_grace_ms(d.terms.grace_ms);
      b.outbox.emplace_back(n->second.channel, std::move(m));
    }
    Persist(v, b);
  }
}

void Controller::Impl::EndPreempted(Job& j, int32_t exit_code, TimeMs end, Batch& b) {
  const std::string by = "preempted by job " + std::to_string(j.preempted_by);
  if (j.preempt_mode == sched::PreemptMode::kRequeue && j.spec.requeue && !j.spec.interactive) {
    j.preempted_by = 0;
    j.preempt_deadline_ms = 0;
    spdlog::info("job {}: {}; requeued", j.id, by);
    Requeue(j, "Requeued: " + by, b);
    return;
  }
  StopOnNodes(j, "", b);
  Finish(j, JobState::kPreempted, exit_code, end, by, b);
}

void Controller::Impl::ExpirePreemptions(TimeMs now, Batch& b) {
  std::vector<JobId> due;
  for (JobId id : preempting) {
    const Job& j = jobs[id];
    TimeMs slack = j.spec.interactive ? kAllocationSlackMs : 2 * opts.node_timeout_ms;
    if (now >= j.preempt_deadline_ms + slack) due.push_back(id);
  }
  for (JobId id : due) {
    Job& j = jobs[id];
    if (j.state != JobState::kRunning) continue;
    if (!j.spec.interactive) {
      spdlog::warn("job {}: no end reported {} ms after its preemption's grace time; ended", id,
                   now - j.preempt_deadline_ms);
    }
    EndPreempted(j, 128 + 15, now, b);
  }
}

}  // namespace corral::ctld
