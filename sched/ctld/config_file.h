// corrald's config file (--config; `corral up` passes it the cluster file): YAML with
//   scheduler:   corrald's scheduling options by flag name (backfill: conservative, ...);
//                flags given on the command line win
//   partitions:  a list of partitions (name, nodes, default, state, default-time, max-time,
//                max-nodes, accounts, priority-tier, preempt-mode, grace-time, backfill)
//   nodes:       corral up's simulated nodes; corrald does not read them
// Times are Slurm's (minutes, HH:MM:SS, D-HH:MM:SS, UNLIMITED). Errors name the entry and field,
// e.g. "partitions[1].max-time: \"2x\" is not a time".
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "fabric/proto/corral.pb.h"

namespace corral::ctld {

struct ConfigFile {
  std::vector<std::string> scheduler_args;    // "--backfill=conservative", ... to parse as flags
  std::vector<v1::PartitionSpec> partitions;  // checked (PartitionFromSpec), names unique
};

Result<ConfigFile> ParseConfigFile(const std::string& yaml_text);

}  // namespace corral::ctld
