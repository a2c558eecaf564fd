#include "sched/core/runtime_model.h"

#include <algorithm>

namespace corral::sched {

void RuntimeHistory::Record(const std::string& user, TimeMs ms) {
  auto& d = runs_[user];
  d.push_back(std::max<TimeMs>(ms, 1));
  while (d.size() > kKept) d.pop_front();
}

TimeMs RuntimeHistory::Estimate(RuntimeModel model, const std::string& user,
                                TimeMs limit_ms) const {
  if (model == RuntimeModel::kLimit) return limit_ms;
  auto it = runs_.find(user);
  if (it == runs_.end() || it->second.empty()) return limit_ms;
  TimeMs sum = 0;
  for (TimeMs t : it->second) sum += t;
  TimeMs mean = std::max<TimeMs>(sum / static_cast<TimeMs>(it->second.size()), 1);
  return limit_ms > 0 ? std::min(mean, limit_ms) : mean;
}

}  // namespace corral::sched
