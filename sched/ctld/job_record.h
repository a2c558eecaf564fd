// A job as the controller keeps it: the user's spec plus its life-cycle fields.
#pragma once

#include <map>
#include <string>

#include "common/job.h"
#include "fabric/proto/corral.pb.h"
#include "sched/core/preempt_mode.h"

namespace corral::ctld {

struct Job {
  JobId id = 0;
  JobSpec spec;
  JobState state = JobState::kPending;
  std::string reason;
  TimeMs submit_ms = 0, start_ms = 0, end_ms = 0;
  int32_t exit_code = 0;
  Allocation alloc;
  int32_t restarts = 0;    // times requeued after its node was lost (Slurm's Restarts)
  TimeMs estimate_ms = 0;  // running: how long it was planned to run when it started
  // Running and being preempted for job `preempted_by` (0: not): SIGTERM was sent; it ends as
  // `preempt_mode` says once it exits, or at the latest when the grace time is long over.
  JobId preempted_by = 0;
  sched::PreemptMode preempt_mode = sched::PreemptMode::kCancel;
  TimeMs preempt_deadline_ms = 0;
  bool accounted = false;  // its row is in the HDF5 /jobs table
  // The script, environment and arguments live in the store under this id (shared by the
  // tasks of an array), not in memory: spec.script/env/args are empty here.
  JobId payload_id = 0;
  // What its current run used, by node: the latest sample while it runs, the final figure once
  // it ended there (JobUsage). "" holds the sum kept in the store across a restart of corrald.
  std::map<std::string, v1::JobUsage> usage;

  std::string Nodelist() const;
};

// Its usage summed over its nodes (published_view.cc).
v1::JobUsage UsageOf(const Job& j);

}  // namespace corral::ctld
