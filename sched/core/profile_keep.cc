// The AvailabilityProfile kept from pass to pass (profile_cache.h): moving `now` forward, and
// recording what a pass reserves so that it can be rolled back, leaving the skyline as a profile
// built afresh would have it.
#include <algorithm>
#include <functional>

#include "sched/core/profile.h"

namespace corral::sched {

void AvailabilityProfile::Uncount(const Step& st, size_t i) {
  auto it = times_.find(st.t);
  if (it == times_.end()) return;
  auto& v = it->second;
  size_t slot = st.slot;
  if (slot >= v.size() || v[slot] != i) {
    slot = static_cast<size_t>(std::find(v.begin(), v.end(), static_cast<uint32_t>(i)) - v.begin());
    if (slot == v.size()) return;
  }
  v[slot] = v.back();
  v.pop_back();
  if (slot < v.size()) {  // the node moved into the slot: its step at t says where it is now
    auto& moved = nodes_[v[slot]].steps;
    const size_t j = StepAt(v[slot], st.t);
    if (moved[j].t == st.t) moved[j].slot = static_cast<uint32_t>(slot);
  }
  if (v.empty()) times_.erase(it);
}

void AvailabilityProfile::SetRising(size_t i, bool rising) {
  Node& n = nodes_[i];
  if (n.rising == rising) return;
  n.rising = rising;
  falling_ += rising ? -1 : 1;
}

void AvailabilityProfile::Due(size_t i) {
  if (!tracking_ || nodes_[i].steps.size() < 2) return;
  due_.push_back({nodes_[i].steps[1].t, i});
  std::push_heap(due_.begin(), due_.end(), std::greater<>());
}

void AvailabilityProfile::Advance(TimeMs now) {
  if (!tracking_) {
    tracking_ = true;
    for (size_t i = 0; i < nodes_.size(); ++i) Due(i);
  }
  if (now <= now_) return;
  now_ = now;
  while (!due_.empty() && due_.front().first <= now) {
    const size_t i = due_.front().second;
    std::pop_heap(due_.begin(), due_.end(), std::greater<>());
    due_.pop_back();
    auto& s = nodes_[i].steps;
    size_t j = 1;  // the first step that begins after now
    while (j < s.size() && s[j].t <= now) ++j;
    if (j == 1) continue;  // stale: its second step moved on
    s[0] = s[j - 1];
    s.erase(s.begin() + 1, s.begin() + static_cast<std::ptrdiff_t>(j));
    Due(i);
    if (s[0].free.cpus > 0) {
      auto it = std::lower_bound(open_now_.begin(), open_now_.end(), i);
      if (it == open_now_.end() || *it != i) open_now_.insert(it, i);
    }
  }
  // No step past a node's first begins by now any more: those change points go, all at once.
  times_.erase(times_.begin(), times_.upper_bound(now));
  // Stale entries of nodes whose steps changed pile up; past a bound, the heap is made afresh.
  if (due_.size() > 4 * nodes_.size() + 64) {
    due_.clear();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].steps.size() > 1) due_.push_back({nodes_[i].steps[1].t, i});
    }
    std::make_heap(due_.begin(), due_.end(), std::greater<>());
  }
}

void AvailabilityProfile::Merge(size_t i) {
  auto& s = nodes_[i].steps;
  size_t w = 1;
  for (size_t k = 1; k < s.size(); ++k) {
    if (s[k].free == s[w - 1].free) {
      Uncount(s[k], i);
      continue;
    }
    s[w++] = s[k];
  }
  if (w == s.size()) return;
  s.resize(w);
  Due(i);
}

void AvailabilityProfile::Record() {
  recording_ = true;
  journal_.clear();
}

void AvailabilityProfile::Finish(bool undo) {
  recording_ = false;
  if (undo) {
    for (auto c = journal_.rbegin(); c != journal_.rend(); ++c) {
      Apply(c->node, c->level, c->start, c->end, -c->sign);
      SetRising(c->node, c->rising);
    }
  }
  std::vector<size_t> touched;
  touched.reserve(journal_.size());
  for (const Change& c : journal_) touched.push_back(c.node);
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (size_t i : touched) Merge(i);
  journal_.clear();
}

void AvailabilityProfile::RollBack() {
  Finish(true);
}

void AvailabilityProfile::Commit() {
  Finish(false);
}

}  // namespace corral::sched
