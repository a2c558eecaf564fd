// JSON shapes of the listings (`--json`): one object per job, node or accounting record,
// with numbers as numbers and times in ms since the epoch. Field names are stable.
#pragma once

#include <nlohmann/json.hpp>

#include "fabric/proto/corral.pb.h"

namespace corral::cli {

nlohmann::json JobJson(const v1::JobInfo& j);
nlohmann::json NodeJson(const v1::NodeInfo& n);
nlohmann::json AcctJson(const v1::AcctRecord& r);

}  // namespace corral::cli
