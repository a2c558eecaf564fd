#include "sched/core/profile_cache.h"

#include <algorithm>
#include <functional>

namespace corral::sched {

void ProfileCache::Reset() {
  profile_.reset();
  jobs_.clear();
  backs_.clear();
  feasibility_.reset();
  unavailable_.clear();
  totals_.reset();
}

void ProfileCache::Push(TimeMs back, JobId id) {
  backs_.push_back({back, id});
  std::push_heap(backs_.begin(), backs_.end(), std::greater<>());
}

void ProfileCache::Started(JobId id, const Allocation& alloc, TimeMs expected_end) {
  if (!profile_) return;
  const TimeMs now = profile_->now();
  const TimeMs back = expected_end <= now ? now + 1 : expected_end;
  profile_->Record();
  const bool ok = !jobs_.count(id) && profile_->Reserve(alloc, now, back);
  profile_->Commit();
  if (!ok) return Reset();  // not what the state says: build it again
  jobs_.emplace(id, Job{alloc, back});
  Push(back, id);
}

void ProfileCache::Ended(JobId id) {
  if (!profile_) return;
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Reset();
  profile_->Record();
  profile_->Unreserve(it->second.alloc, profile_->now(), it->second.back);
  profile_->Commit();
  jobs_.erase(it);
}

AvailabilityProfile& ProfileCache::Begin(TimeMs now, const std::vector<NodeView>& free_now,
                                         const std::vector<RunningJob>& running) {
  if (profile_ &&
      (now < profile_->now() || free_now.size() != nodes_ || running.size() != jobs_.size())) {
    Reset();
  }
  if (!profile_) {
    ++builds_;
    profile_.emplace(now, free_now, running);
    nodes_ = free_now.size();
    for (const RunningJob& r : running) {
      const TimeMs back = r.expected_end <= now ? now + 1 : r.expected_end;
      if (!jobs_.emplace(r.id, Job{r.alloc, back}).second) continue;
      Push(back, r.id);
    }
  } else {
    ++reuses_;
  }
  profile_->Advance(now);
  // Jobs past their expected end still run: the profile gives them back at now + 1, as a
  // profile built at now does.
  while (!backs_.empty() && backs_.front().first <= now) {
    const auto [back, id] = backs_.front();
    std::pop_heap(backs_.begin(), backs_.end(), std::greater<>());
    backs_.pop_back();
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.back != back) continue;  // ended, or moved on
    profile_->Record();
    const bool ok = profile_->Reserve(it->second.alloc, now, now + 1);
    profile_->Commit();
    if (!ok) {
      Reset();
      return Begin(now, free_now, running);
    }
    it->second.back = now + 1;
    Push(now + 1, id);
  }
  profile_->Record();
  return *profile_;
}

void ProfileCache::End() {
  if (profile_) profile_->RollBack();
}

Feasibility& ProfileCache::feasibility() {
  if (!feasibility_) feasibility_.emplace(profile_->UpProfiles());
  return *feasibility_;
}

}  // namespace corral::sched
