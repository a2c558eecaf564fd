#include "sched/core/schedule.h"

#include <algorithm>

namespace corral::sched {

ClusterTotals Totals(const std::vector<NodeView>& nodes) {
  ClusterTotals t;
  for (const NodeView& n : nodes) {
    if (!n.up) continue;
    t.cpus += n.profile.cpus;
    t.gpus += static_cast<int64_t>(n.profile.gpus.size());
  }
  return t;
}

std::vector<size_t> PriorityOrder(TimeMs now, const std::vector<WaitingJob>& pending,
                                  const ClusterTotals& totals, const PriorityWeights& w) {
  std::vector<std::pair<int64_t, size_t>> keyed;
  keyed.reserve(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    keyed.emplace_back(ComputePriority(now, pending[i].priority, totals, w).value, i);
  }
  std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return pending[a.second].id < pending[b.second].id;
  });
  std::vector<size_t> order;
  order.reserve(keyed.size());
  for (const auto& [prio, i] : keyed) order.push_back(i);
  return order;
}

Decisions Schedule(const SchedulerState& state, const SchedulerConfig& config) {
  Decisions d;
  const ClusterTotals totals = Totals(state.nodes);
  // Phases 1 and 2: in priority order, the tasks of a throttled array beyond its limit (those
  // running count against it) wait as JobArrayTaskLimit, and the jobs beyond their QOS's
  // limits with its reason; neither takes part in the backfill.
  std::vector<PendingJob> queue;
  queue.reserve(state.pending.size());
  std::map<JobId, int32_t> slots;
  LimitTracker limits(state.qos);
  for (const RunningJob& r : state.running) {
    if (r.spec) limits.AddRunning(*r.spec);
  }
  for (size_t i : PriorityOrder(state.now, state.pending, totals, config.weights)) {
    const WaitingJob& w = state.pending[i];
    const JobSpec& s = *w.spec;
    if (s.array_throttle > 0 && s.array_job_id > 0) {
      auto [it, fresh] = slots.try_emplace(s.array_job_id, 0);
      if (fresh) {
        auto r = state.array_running.find(s.array_job_id);
        it->second = s.array_throttle - (r == state.array_running.end() ? 0 : r->second);
      }
      if (it->second <= 0) {
        d.reasons.emplace_back(w.id, "JobArrayTaskLimit");
        continue;
      }
      --it->second;
    }
    if (!state.qos.empty()) {
      if (std::string why = limits.Admit(s); !why.empty()) {
        d.reasons.emplace_back(w.id, std::move(why));
        continue;
      }
    }
    queue.push_back({w.id, w.spec, w.runtime_ms > 0 ? w.runtime_ms : s.time_limit_ms, w.held});
  }
  // Phase 3.
  BackfillResult r = Backfill(state.now, state.nodes, state.running, queue, config.backfill);
  d.starts = std::move(r.starts);
  d.reservations = std::move(r.reservations);
  d.reasons.insert(d.reasons.end(), r.reasons.begin(), r.reasons.end());
  return d;
}

}  // namespace corral::sched
