// Preemption, the last phase of a pass (schedule.h). A job that could not start may take the
// place of running jobs it outranks:
//  - by partition (Slurm's preempt/partition_prio): a job of a partition with a higher priority
//    tier preempts jobs of a lower tier whose partition's preempt mode is requeue or cancel,
//    with that partition's grace time;
//  - by QOS (preempt/qos): a job whose QOS lists another QOS in `preempt` preempts that QOS's
//    jobs, as that QOS's preempt mode and grace time say.
// A victim gets SIGTERM, then its grace time, then it is requeued or cancelled (requeue falls
// back to cancel for a job that may not be requeued). The preemptor starts in a later pass, on
// what the victims gave back. Pure (DESIGN.md rule 1).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/job.h"
#include "sched/core/fifo.h"
#include "sched/core/fit.h"
#include "sched/core/limits.h"
#include "sched/core/partition.h"
#include "sched/core/profile.h"

namespace corral::sched {

struct PreemptTerms {
  PreemptMode mode = PreemptMode::kCancel;  // requeue or cancel, never off
  TimeMs grace_ms = 0;
};

// How `victim` may be preempted for `preemptor`, or nullopt when it may not be. The partition
// rule is tried first, then the QOS rule.
std::optional<PreemptTerms> TermsFor(const JobSpec& preemptor, const JobSpec& victim,
                                     const std::vector<Partition>& parts,
                                     const std::map<std::string, Qos>& qos);

// Whether any job could be preempted under these definitions: a partition with a preempt mode
// below another's tier, or a QOS that lists others. A pass skips the phase otherwise.
bool PreemptionConfigured(const std::vector<Partition>& parts,
                          const std::map<std::string, Qos>& qos);

struct Preemptor {
  JobId id = 0;
  const JobSpec* spec = nullptr;    // owned by the caller
  const NodeMask* nodes = nullptr;  // the nodes it may use, by position in `free`; null: all
};

struct PreemptDecision {
  JobId victim = 0;
  JobId preemptor = 0;
  PreemptTerms terms;
};

// `waiting` in priority order, highest first (jobs that did not start in this pass). For each:
//  - if it fits on what is free (`free`, less this pass's `starts`) plus what the jobs being
//    preempted already will give back (RunningJob::preempting), it takes that and waits for it;
//  - else it preempts the fewest running jobs that make it fit: candidates are tried cheapest
//    first (a lower partition tier, then a lower QOS priority, then the most recently started),
//    one alone if one is enough, else added in that order until it fits; then every victim it
//    could do without is dropped, the dearest first. What the victims hold is then its own, and
//    no later job in the pass takes it or preempts them again.
// A job that no set of victims makes room for preempts nobody.
std::vector<PreemptDecision> Preempt(const std::vector<NodeView>& free,
                                     const std::vector<StartDecision>& starts,
                                     const std::vector<RunningJob>& running,
                                     const std::vector<Preemptor>& waiting,
                                     const std::vector<Partition>& parts,
                                     const std::map<std::string, Qos>& qos);

}  // namespace corral::sched
