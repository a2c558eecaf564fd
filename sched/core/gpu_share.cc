#include "sched/core/gpu_share.h"

#include <algorithm>

namespace corral::sched {

int32_t GpuUsedMilli(const NodeView& n, size_t i) {
  if (i < n.gpu_milli_used.size()) return n.gpu_milli_used[i];
  return i < n.gpu_free.size() && n.gpu_free[i] ? 0 : kWholeGpu;
}

int32_t PickShare(const NodeView& n, const std::string& model, int32_t milli) {
  int32_t best = -1;
  int32_t best_left = 0;
  bool best_shared = false;
  for (size_t i = 0; i < n.profile.gpus.size(); ++i) {
    if (!GpuModelMatches(model, n.profile.gpus[i].model)) continue;
    const int32_t used = GpuUsedMilli(n, i);
    const int32_t left = kWholeGpu - used - milli;
    if (left < 0) continue;
    const bool shared = used > 0;
    if (best < 0 || (shared && !best_shared) || (shared == best_shared && left < best_left)) {
      best = static_cast<int32_t>(i), best_left = left, best_shared = shared;
    }
  }
  return best;
}

int64_t ShareWaste(const NodeView& n, int32_t gpu, int32_t milli, int32_t cpus) {
  const int32_t used = GpuUsedMilli(n, static_cast<size_t>(gpu));
  int32_t whole_free = 0;
  for (size_t i = 0; i < n.gpu_free.size(); ++i) whole_free += n.gpu_free[i] ? 1 : 0;
  const int64_t breaks = used == 0 ? 1 : 0;
  const int64_t left = kWholeGpu - used - milli;
  return breaks * 1'000'000'000'000'000 + left * 10'000'000'000 +
         PlacementWaste(n.free_cpus, whole_free, cpus, 0);
}

void ApplyGpu(NodeView* n, int32_t g, int32_t milli, int sign) {
  if (g < 0 || static_cast<size_t>(g) >= n->gpu_free.size()) return;
  auto& used = n->gpu_milli_used;
  if (milli <= 0 || milli >= kWholeGpu) {
    n->gpu_free[g] = sign > 0;
    if (!used.empty()) used[g] = sign > 0 ? 0 : kWholeGpu;
    return;
  }
  if (used.empty()) {
    used.resize(n->gpu_free.size());
    for (size_t i = 0; i < used.size(); ++i) used[i] = n->gpu_free[i] ? 0 : kWholeGpu;
  }
  used[g] = std::clamp(used[g] - sign * milli, 0, kWholeGpu);
  n->gpu_free[g] = used[g] == 0;
}

}  // namespace corral::sched
