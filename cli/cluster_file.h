// The cluster file read by `corral up` (examples/cluster.yaml): the simulated nodes to start
// (`nodes:`), and corrald's sections (`partitions:`, `scheduler:`), which corrald reads itself
// (corrald --config; sched/ctld/config_file.h).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace corral::cli {

struct ClusterNode {
  std::string name;
  std::string topology;  // an absolute XML path, a synthetic string, or empty (this machine)
  std::string gpus;      // --gpus list, or empty
  // The provider's terms, as corral-node takes them (--min-price, --accounts, --max-time).
  std::string min_price, accounts, max_time;
  bool contain = true;  // `contain: false`: corral-node --contain=false (no cgroups)
};

// Parses the YAML text. Relative XML paths are resolved against `base_dir`. Errors name the
// node entry and the field, e.g. "nodes[2].count: must be 1..256".
Result<std::vector<ClusterNode>> ParseClusterFile(const std::string& yaml_text,
                                                  const std::string& base_dir);

// The file's top-level sections other than `nodes:`, as YAML text ("" when there are none).
std::string ControllerSections(const std::string& yaml_text);

}  // namespace corral::cli
