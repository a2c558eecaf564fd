// The machine of a cluster file (the YAML of `corral up`) for `corral sim --cluster`: each node
// is profiled by `corral-node --print-profile --json`, so a topology is read by the very hwloc
// code a real node runs, once per distinct topology and GPU list; runs of identical nodes become
// one group.
#pragma once

#include <string>

#include "common/status.h"
#include "sched/sim/metrics.h"

namespace corral::cli {

// `corral_node` is the path of corral-node. Errors name --cluster, the file and, where one is at
// fault, the node: Invalid for the file's faults, Unavailable when corral-node cannot run.
Result<sim::Machine> MachineOfClusterFile(const std::string& path, const std::string& corral_node);

}  // namespace corral::cli
