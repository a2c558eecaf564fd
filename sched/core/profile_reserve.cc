// The availability profile's changes: splitting steps, taking and giving back a job's part over
// an interval (Reserve, Unreserve) and blocking a node for an advance reservation (profile.h).
#include <algorithm>

#include "sched/core/profile.h"

namespace corral::sched {

size_t AvailabilityProfile::SplitAt(size_t i, TimeMs t) {
  Node& n = nodes_[i];
  auto it = std::upper_bound(n.steps.begin(), n.steps.end(), t,
                             [](TimeMs x, const Step& st) { return x < st.t; });
  size_t j = static_cast<size_t>(it - n.steps.begin()) - 1;  // steps[0].t <= now <= t
  if (n.steps[j].t == t || (j == 0 && t <= now_)) return j;
  n.steps.insert(n.steps.begin() + static_cast<std::ptrdiff_t>(j + 1),
                 Step{t, n.steps[j].free, Count(t, i)});
  if (j == 0) Due(i);
  return j + 1;
}

std::optional<std::vector<std::pair<size_t, AvailabilityProfile::Level>>>
AvailabilityProfile::PerNode(const Allocation& alloc) const {
  std::vector<std::pair<size_t, Level>> out;
  for (const NodeAllocation& a : alloc) {
    auto it = index_.find(a.node);
    if (it == index_.end()) return std::nullopt;
    std::optional<Level> part = PartOf(a);
    if (!part) return std::nullopt;
    auto same =
        std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == it->second; });
    if (same == out.end()) {
      out.push_back({it->second, *part});
      continue;
    }
    Level& sum = same->second;
    if (sum.gpus & part->gpus) return std::nullopt;
    for (size_t k = 0; k < kShareGpus; ++k) {
      if (sum.used[k] + part->used[k] > kWholeGpu) return std::nullopt;
    }
    sum.Add(*part);
  }
  return out;
}

std::pair<size_t, size_t> AvailabilityProfile::Span(size_t i, TimeMs start, TimeMs end) {
  const size_t j0 = SplitAt(i, start);
  const size_t j1 = end == kForever ? nodes_[i].steps.size() : SplitAt(i, end);
  return {j0, j1};
}

void AvailabilityProfile::Apply(size_t i, const Level& l, TimeMs start, TimeMs end, int sign) {
  Node& n = nodes_[i];
  if (recording_) journal_.push_back({i, l, start, end, sign, n.rising});
  if (sign < 0 && start > now_) SetRising(i, false);
  const auto [j0, j1] = Span(i, start, end);
  for (size_t k = j0; k < j1; ++k) {
    n.steps[k].free.Apply(l, sign, shares_);
  }
  if (sign > 0 && start == now_ && n.steps[0].free.cpus > 0) {
    auto it = std::lower_bound(open_now_.begin(), open_now_.end(), i);
    if (it == open_now_.end() || *it != i) open_now_.insert(it, i);
  }
}

void AvailabilityProfile::Block(const std::string& name, TimeMs start, TimeMs end) {
  start = std::max(start, now_);
  auto it = index_.find(name);
  if (it == index_.end() || end <= start) return;
  Node& n = nodes_[it->second];
  if (start > now_) SetRising(it->second, false);
  const auto [j0, j1] = Span(it->second, start, end);
  for (size_t k = j0; k < j1; ++k) n.steps[k].free = shares_ ? Level::None() : Level{};
}

void AvailabilityProfile::KeepShares() {
  if (shares_) return;
  shares_ = true;
  for (Node& n : nodes_) {
    for (Step& st : n.steps) st.free.KeepShares();
  }
}

namespace {
bool HasShare(const Allocation& alloc) {
  return std::ranges::any_of(
      alloc, [](const NodeAllocation& a) { return a.gpu_milli > 0 && a.gpu_milli < kWholeGpu; });
}
}  // namespace

bool AvailabilityProfile::Reserve(const Allocation& alloc, TimeMs start, TimeMs end) {
  if (start < now_ || end <= start) return false;
  if (HasShare(alloc)) KeepShares();
  auto per_node = PerNode(alloc);
  if (!per_node) return false;
  for (const auto& [i, l] : *per_node) {
    Level f = FreeOver(i, start, end);
    if (!f.Holds(l, nodes_[i].capacity.gpus, shares_)) return false;
  }
  for (const auto& [i, l] : *per_node) Apply(i, l, start, end, -1);
  return true;
}

void AvailabilityProfile::Unreserve(const Allocation& alloc, TimeMs start, TimeMs end) {
  if (start < now_ || end <= start) return;
  if (HasShare(alloc)) KeepShares();
  auto per_node = PerNode(alloc);
  if (!per_node) return;
  for (const auto& [i, l] : *per_node) Apply(i, l, start, end, +1);
}

}  // namespace corral::sched
