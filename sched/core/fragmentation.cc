#include "sched/core/fragmentation.h"

#include <algorithm>
#include <array>
#include <bit>

#include "sched/core/gpu_share.h"

namespace corral::sched {

void JobMix::Add(const JobSpec& s) {
  if (s.nodes != 1 || s.GpusPerNode() <= 0) return;
  JobKind k;
  k.cpus = static_cast<int32_t>(std::bit_ceil(static_cast<uint32_t>(std::max(s.CpusPerNode(), 1))));
  k.gpus = s.GpusPerNode();
  k.gpu_milli = s.gpu_milli > 0 ? std::clamp((s.gpu_milli + 49) / 50 * 50, 50, 999) : 0;
  k.gpu_model = s.gpu_model;
  stale_ = true;
  for (JobKind& have : kinds_) {
    if (have.cpus == k.cpus && have.gpus == k.gpus && have.gpu_milli == k.gpu_milli &&
        have.gpu_model == k.gpu_model) {
      have.weight += 1;
      return;
    }
  }
  kinds_.push_back(std::move(k));
}

const std::vector<JobKind>& JobMix::Top() const {
  if (!stale_) return top_;
  top_ = kinds_;
  std::stable_sort(top_.begin(), top_.end(),
                   [](const JobKind& a, const JobKind& b) { return a.weight > b.weight; });
  if (top_.size() > kMaxKinds) top_.resize(kMaxKinds);
  stale_ = false;
  return top_;
}

double Fragmentation(const NodeView& n, const JobMix& mix, const NodeAllocation* taking) {
  const size_t gpus = std::min<size_t>(n.profile.gpus.size(), 64);
  if (gpus == 0 || mix.empty()) return 0;
  std::array<int32_t, 64> free{};
  int64_t free_total = 0;
  for (size_t i = 0; i < gpus; ++i) free[i] = kWholeGpu - GpuUsedMilli(n, i);
  int32_t cpus = n.free_cpus;
  if (taking) {
    cpus -= taking->cpus;
    for (int32_t g : taking->gpu_indices) {
      if (g < 0 || static_cast<size_t>(g) >= gpus) continue;
      free[g] -= taking->gpu_milli > 0 ? taking->gpu_milli : free[g];
    }
  }
  for (size_t i = 0; i < gpus; ++i) free_total += free[i];
  if (free_total <= 0) return 0;
  double sum = 0, weights = 0;
  for (const JobKind& k : mix.Top()) {
    weights += k.weight;
    const int32_t need = k.gpu_milli > 0 ? k.gpu_milli : kWholeGpu;  // on each GPU it takes
    int64_t usable = 0;
    int32_t with_room = 0;
    for (size_t i = 0; i < gpus; ++i) {
      if (free[i] < need || !GpuModelMatches(k.gpu_model, n.profile.gpus[i].model)) continue;
      usable += free[i], ++with_room;
    }
    const bool fits = cpus >= k.cpus && with_room >= k.gpus;
    sum += k.weight * static_cast<double>(fits ? free_total - usable : free_total);
  }
  return weights > 0 ? sum / weights : 0;
}

}  // namespace corral::sched
