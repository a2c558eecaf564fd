#include "sched/ctld/job_record.h"

#include <algorithm>

#include "common/hostlist.h"

namespace corral::ctld {

std::string Job::Nodelist() const {
  std::vector<std::string> names;
  for (const auto& a : alloc) {
    // Components of a heterogeneous job may share a node: list it once.
    if (std::find(names.begin(), names.end(), a.node) == names.end()) names.push_back(a.node);
  }
  return CompressHostlist(names);
}

}  // namespace corral::ctld
