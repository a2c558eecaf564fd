// A trace of any supported format as the replay's Workload, and the machine it describes.
// ReadTrace tells the format from the content (or is told it); MachineOf sizes the machine a
// trace ran on when it says, or one that can run it when it does not (the source says which).
#pragma once

#include <string>

#include "common/status.h"
#include "sched/sim/metrics.h"
#include "sched/sim/swf.h"
#include "sched/sim/workload.h"

namespace corral::sim {

// An SWF trace's jobs as SimJobs (CPU jobs on any node).
Workload FromSwf(const SwfTrace& t);

// The machine `w` came from: its node list (Alibaba); for SWF, MaxNodes nodes of
// MaxProcs / MaxNodes CPUs when the header gives both, that many one-CPU nodes when it gives one,
// else as many one-CPU nodes as the widest job; for GPU traces without a node list (Philly),
// 8-GPU nodes, enough for the widest job and for the trace's mean GPU demand at 80 % load.
Machine MachineOf(const Workload& w);

struct TraceOptions {
  std::string format;      // "swf", "alibaba", "philly"; "" tells it from the content
  std::string nodes_path;  // Alibaba: the node list ("": the trace's, beside the pod list)
  bool strict = false;
};

// Reads `path` (a file, plain or gzip; for Alibaba also its directory). Errors name the path
// and, for a malformed line under `strict`, the line.
Result<Workload> ReadTrace(const std::string& path, const TraceOptions& opts);

}  // namespace corral::sim
