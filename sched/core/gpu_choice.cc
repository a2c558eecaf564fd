#include "sched/core/gpu_choice.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace corral::sched {

bool ChoosesModel(const JobSpec& s) {
  return s.gpu_choice != GpuChoice::kAny && s.het.empty() && s.gpu_milli == 0 &&
         s.GpusPerNode() > 0 && (s.gpu_model.empty() || s.gpu_model.find('|') != std::string::npos);
}

std::vector<ModelOption> ModelOptions(const JobSpec& s, TimeMs runtime_ms,
                                      const std::vector<std::string>& present,
                                      const GpuCatalog& catalog, const GpuSpeeds* speeds) {
  struct Pick {
    std::string model;
    double speed;
    int64_t rate;
  };
  std::vector<Pick> picks;
  for (const std::string& m : present) {
    if (!GpuModelMatches(s.gpu_model, m)) continue;
    const int64_t rate = RateOf(catalog, m);
    if (s.max_price_micro > 0 && rate > s.max_price_micro) continue;
    double speed = 0;
    if (speeds) {
      if (auto it = speeds->find(m); it != speeds->end()) speed = it->second;
    }
    if (speed <= 0) {
      if (auto it = catalog.find(m); it != catalog.end()) speed = it->second.speed;
    }
    picks.push_back({m, std::isfinite(speed) && speed > 0 ? speed : 0, rate});
  }
  double slowest = 0;
  for (const Pick& p : picks) {
    if (p.speed > 0 && (slowest == 0 || p.speed < slowest)) slowest = p.speed;
  }
  const double gpus = static_cast<double>(s.TotalGpus());
  std::vector<ModelOption> out;
  out.reserve(picks.size());
  for (const Pick& p : picks) {
    ModelOption o;
    o.model = p.model;
    const double ratio = slowest > 0 && p.speed > 0 ? slowest / p.speed : 1.0;
    o.runtime_ms = runtime_ms;
    if (runtime_ms > 0 && ratio < 1.0) {
      o.runtime_ms = std::max<TimeMs>(
          1, static_cast<TimeMs>(std::ceil(static_cast<double>(runtime_ms) * ratio)));
    }
    const double hours = runtime_ms > 0 ? static_cast<double>(o.runtime_ms) / 3.6e6 : 1.0;
    o.cost = static_cast<double>(p.rate) * gpus * hours;
    out.push_back(std::move(o));
  }
  const bool cheapest = s.gpu_choice == GpuChoice::kCheapest;
  std::sort(out.begin(), out.end(), [cheapest](const ModelOption& a, const ModelOption& b) {
    if (cheapest)
      return std::tie(a.cost, a.runtime_ms, a.model) < std::tie(b.cost, b.runtime_ms, b.model);
    return std::tie(a.runtime_ms, a.cost, a.model) < std::tie(b.runtime_ms, b.cost, b.model);
  });
  return out;
}

}  // namespace corral::sched
