// The FIFO policy: jobs start in submission order; the first job that cannot start now blocks
// every job behind it. A job that could not run even if every up node were idle (what it needs
// is on nodes that are down, being checked or failed) blocks nobody: it is passed over, as
// Slurm passes over a job whose nodes are not available. Later issues add backfill beside it.
#pragma once

#include <map>
#include <vector>

#include "sched/core/fit.h"

namespace corral::sched {

struct QueuedJob {
  JobId id = 0;
  const JobSpec* spec = nullptr;  // owned by the caller; must outlive the call
};

struct StartDecision {
  JobId id = 0;
  Allocation alloc;
  // The partition it starts in (its position in SchedulerState::partitions); -1: not told.
  int32_t partition = -1;
  // How long it is expected to run where it starts, when the pass knows better than its time
  // limit: a job of several GPU models, on the one chosen (gpu_choice.h); 0: not known.
  TimeMs runtime_ms = 0;
};

struct PassResult {
  std::vector<StartDecision> starts;
  JobId blocked = 0;           // the first job that could not start (0 = none)
  std::string blocked_reason;  // why; every job after it waits behind it ("Priority")
  // Jobs passed over because no set of up nodes could ever hold them, with the reason
  // ("ReqNodeNotAvail (nodes down, being checked or failed): ...").
  std::vector<std::pair<JobId, std::string>> unavailable;
};

// One scheduling pass over `queue` (already in submission order). `nodes` holds the free
// resources now; the decisions taken are reserved in it, so a caller can apply them in order.
// Stops at the first job that cannot start for want of free resources, so a caller may pass
// only a prefix of a long queue: no more jobs than free CPUs + 1 can start or block.
PassResult ScheduleFifo(const std::vector<QueuedJob>& queue, std::vector<NodeView>* nodes);

}  // namespace corral::sched
