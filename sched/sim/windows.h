// RLScheduler's evaluation protocol (Zhang et al., SC'20), for comparing with its published
// figures: `count` windows of `size` consecutive jobs, each starting at a job index drawn
// uniformly from [size, jobs - size - 1) with the given seed, on a machine pre-filled with the
// jobs just before the window (between size and 2 x size of them, drawn too), each running its
// requested time from a start drawn in the last requested time, placed until one does not fit.
// Each window is replayed on its own; its figure is the mean over its jobs. Pure.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "sched/sim/replay.h"

namespace corral::sim {

struct WindowOptions {
  int32_t count = 10;
  int32_t size = 1024;
  uint64_t seed = 1;
  bool prefill = true;
};

struct Window {
  size_t first = 0;  // the index of its first job, in submit order
  Workload jobs;     // its jobs
  std::vector<PrefillJob> prefill;
};

// The windows of `w` (sorted by submit time here). Errors: fewer than 2 x size + 2 jobs, or a
// count or size out of range (1..1000 windows, 1..1000000 jobs).
Result<std::vector<Window>> SampleWindows(const Workload& w, const WindowOptions& opts);

}  // namespace corral::sim
