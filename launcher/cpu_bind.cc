#include "launcher/cpu_bind.h"

#include <algorithm>

namespace corral {

std::vector<int32_t> PickCpus(const std::vector<std::vector<int32_t>>& numa_pus,
                              const std::vector<int32_t>& near, int32_t want,
                              const std::set<int32_t>& busy) {
  std::vector<int32_t> out;
  if (want <= 0) return out;
  std::set<int32_t> taken;
  std::vector<int32_t> order;  // NUMA nodes: the near ones first, then the rest
  for (int32_t n : near) {
    if (n >= 0 && static_cast<size_t>(n) < numa_pus.size() &&
        std::find(order.begin(), order.end(), n) == order.end()) {
      order.push_back(n);
    }
  }
  const size_t near_count = order.size();
  for (size_t n = 0; n < numa_pus.size(); ++n) {
    if (std::find(order.begin(), order.end(), static_cast<int32_t>(n)) == order.end()) {
      order.push_back(static_cast<int32_t>(n));
    }
  }
  auto take = [&](size_t from, size_t to, bool free_only) {
    for (size_t k = from; k < to; ++k) {
      for (int32_t pu : numa_pus[order[k]]) {
        if (static_cast<int32_t>(out.size()) == want) return;
        if ((free_only && busy.count(pu)) || !taken.insert(pu).second) continue;
        out.push_back(pu);
      }
    }
  };
  take(0, near_count, true);
  take(near_count, order.size(), true);
  take(0, near_count, false);
  take(near_count, order.size(), false);
  return out;
}

std::string CpuList(std::vector<int32_t> pus) {
  std::sort(pus.begin(), pus.end());
  pus.erase(std::unique(pus.begin(), pus.end()), pus.end());
  std::string out;
  for (size_t i = 0; i < pus.size();) {
    size_t j = i;
    while (j + 1 < pus.size() && pus[j + 1] == pus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(pus[i]);
    if (j > i) out += '-' + std::to_string(pus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace corral
