#include "sched/ctld/job_record.h"

#include "common/hostlist.h"

namespace corral::ctld {

std::string Job::Nodelist() const {
  std::vector<std::string> names;
  for (const auto& a : alloc) names.push_back(a.node);
  return CompressHostlist(names);
}

}  // namespace corral::ctld
