// The replay of a trace on a virtual clock: at every submit and every end while a CPU is free,
// one pass of sched::Schedule, the very call corrald makes (DESIGN.md "Scheduling"), whose starts
// are applied as corrald applies them. No policy lives here: the machine, the jobs and the clock
// only. Pure apart from the optional progress callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "sched/core/schedule.h"
#include "sched/sim/metrics.h"
#include "sched/sim/swf.h"

namespace corral::sim {

// The trace's own machine: MaxNodes nodes of MaxProcs / MaxNodes CPUs when the header gives
// both, that many one-CPU nodes when it gives one of them, else as many one-CPU nodes as the
// widest job asks for (said in `source`).
Machine MachineOf(const SwfTrace& t);

struct ReplayOptions {
  sched::BackfillMode mode = sched::BackfillMode::kEasy;
  // Verify while replaying: no node over-allocated, no start before submit, every job ending at
  // start + its run time cut at its limit, no job started twice.
  bool check = false;
  // Called every `progress_every` passes, and once at the end: jobs ended so far, all jobs,
  // and the simulated time in seconds.
  std::function<void(int64_t ended, int64_t total, int64_t sim_s)> progress;
  int64_t progress_every = 2000;
};

struct ReplayResult {
  std::vector<JobOutcome> jobs;  // in submit order
  Summary summary;
};

// Replays `trace` on `m`. Errors: a machine without nodes or CPUs.
Result<ReplayResult> Replay(const SwfTrace& trace, const Machine& m, const ReplayOptions& opts);

}  // namespace corral::sim
