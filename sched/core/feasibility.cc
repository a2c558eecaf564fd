#include "sched/core/feasibility.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "sched/core/fit.h"

namespace corral::sched {

Feasibility::Feasibility(const std::vector<NodeProfile>& up) {
  std::map<std::tuple<int32_t, int64_t, std::vector<std::string>>, size_t> seen;
  for (const NodeProfile& p : up) {
    std::vector<std::string> models;
    for (const GpuDevice& g : p.gpus) models.push_back(g.model);
    std::sort(models.begin(), models.end());
    auto [it, fresh] = seen.try_emplace({p.cpus, p.mem_mib, std::move(models)}, kinds_.size());
    if (fresh) kinds_.push_back({p, 0});
    ++kinds_[it->second].count;
  }
}

Status Feasibility::Check(const JobSpec& spec) {
  int32_t most = std::max(spec.nodes, 1);
  for (const auto& h : spec.het) most = std::max(most, h.nodes);
  auto [it, fresh] = lists_.try_emplace(most);
  if (fresh) {
    for (const Kind& k : kinds_) it->second.insert(it->second.end(), std::min(k.count, most), k.p);
  }
  return CheckFeasible(spec, it->second);
}

}  // namespace corral::sched
