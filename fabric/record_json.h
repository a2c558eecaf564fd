// JSON shapes of the wire's records, as `corral ... --json` and `corral-node status --json`
// print them: one object per job, node, admin hold or accounting record, with numbers as numbers
// and times in ms since the epoch. Field names are stable.
#pragma once

#include <nlohmann/json.hpp>

#include "fabric/proto/corral.pb.h"

namespace corral {

nlohmann::json JobJson(const v1::JobInfo& j);
nlohmann::json NodeJson(const v1::NodeInfo& n);
nlohmann::json HoldJson(const v1::NodeHold& h);
nlohmann::json AcctJson(const v1::AcctRecord& r);

}  // namespace corral
