#include "sched/core/schedule.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <unordered_map>

#include "sched/core/choose.h"
#include "sched/core/profile_cache.h"

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
                                  const ClusterTotals& totals, const PriorityWeights& w,
                                  const std::vector<int32_t>* tiers) {
  struct Key {
    int32_t tier;
    int64_t prio;
    size_t i;
  };
  std::vector<Key> keyed;
  keyed.reserve(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    keyed.push_back(
        {tiers ? (*tiers)[i] : 0, ComputePriority(now, pending[i].priority, totals, w).value, i});
  }
  std::sort(keyed.begin(), keyed.end(), [&](const Key& a, const Key& b) {
    if (a.tier != b.tier) return a.tier > b.tier;
    if (a.prio != b.prio) return a.prio > b.prio;
    return pending[a.i].id < pending[b.i].id;
  });
  std::vector<size_t> order;
  order.reserve(keyed.size());
  for (const Key& k : keyed) order.push_back(k.i);
  return order;
}

namespace {

// Where each pending job may run: its partition (index, node mask) and advance reservation.
struct Where {
  std::vector<int32_t> partition;  // per pending job; -1: none that takes it
  std::vector<int32_t> tier;       // per pending job: its partitions' highest
  // Jobs of several partitions (-p a,b), by position in pending: each of them (-1: undefined).
  std::unordered_map<size_t, std::vector<int32_t>> several;
  std::vector<NodeMask> masks;  // per partition, over state.nodes
  std::vector<ReservedNodes> reserved;
  std::vector<size_t> reservation_of;  // state.advance index -> reserved index
};

Where Resolve(const SchedulerState& st) {
  Where p;
  const auto& parts = st.partitions;
  p.masks.resize(parts.size());
  for (size_t k = 0; k < parts.size(); ++k) {
    p.masks[k].resize(st.nodes.size());
    for (size_t i = 0; i < st.nodes.size(); ++i) {
      p.masks[k][i] = parts[k].HasNode(st.nodes[i].profile.name);
    }
  }
  p.partition.resize(st.pending.size(), 0);
  p.tier.resize(st.pending.size(), 0);
  for (size_t i = 0; i < st.pending.size() && !parts.empty(); ++i) {
    const std::string& list = st.pending[i].spec->partition;
    if (list.find(',') != std::string::npos) {
      std::vector<int32_t>& in = p.several[i];
      p.tier[i] = -1;
      for (const Partition* part : JobPartitions(parts, list)) {
        in.push_back(part ? static_cast<int32_t>(part - parts.data()) : -1);
        if (part) p.tier[i] = std::max(p.tier[i], part->priority_tier);
      }
      p.partition[i] = in.front();
      continue;
    }
    const Partition* part = FindPartition(parts, list);
    p.partition[i] = part ? static_cast<int32_t>(part - parts.data()) : -1;
    p.tier[i] = part ? part->priority_tier : -1;
  }
  p.reservation_of.assign(st.advance.size(), SIZE_MAX);
  for (size_t k = 0; k < st.advance.size(); ++k) {
    const AdvanceReservation& a = st.advance[k];
    if (a.end <= st.now) continue;
    ReservedNodes r;
    r.start = a.start, r.end = a.end, r.maintenance = a.maintenance;
    for (size_t i = 0; i < st.nodes.size(); ++i) {
      if (a.HasNode(st.nodes[i].profile.name)) r.nodes.push_back(i);
    }
    p.reservation_of[k] = p.reserved.size();
    p.reserved.push_back(std::move(r));
  }
  return p;
}

}  // namespace

Decisions Schedule(const SchedulerState& state, const SchedulerConfig& config) {
  Decisions d;
  const ClusterTotals totals = state.profile_cache
                                   ? state.profile_cache->Totals(state.nodes, sched::Totals)
                                   : Totals(state.nodes);
  // Phases 1 and 2: in priority order, the tasks of a throttled array beyond its limit (those
  // running count against it) wait as JobArrayTaskLimit, and the jobs beyond their QOS's
  // limits with its reason; neither takes part in the backfill.
  std::vector<PendingJob> queue;
  queue.reserve(state.pending.size());
  std::vector<const GpuSpeeds*> speeds;
  std::map<JobId, int32_t> slots;
  LimitTracker limits(state.qos, state.accounts);
  const bool limited = !state.qos.empty() || !state.accounts.empty();
  for (const RunningJob& r : state.running) {
    if (r.spec && limited) limits.AddRunning(*r.spec);
  }
  const Where where = Resolve(state);
  BackfillConfig bf = config.backfill;
  for (const Partition& p : state.partitions) {
    bf.partition_modes.push_back(p.backfill.value_or(config.backfill.mode));
  }
  for (size_t i : PriorityOrder(state.now, state.pending, totals, config.weights,
                                state.partitions.empty() ? nullptr : &where.tier)) {
    const WaitingJob& w = state.pending[i];
    const JobSpec& s = *w.spec;
    PendingJob q;
    q.id = w.id;
    q.spec = w.spec;
    q.runtime_ms = w.runtime_ms > 0 ? w.runtime_ms : s.time_limit_ms;
    q.held = w.held;
    if (auto several = where.several.find(i); several != where.several.end()) {
      // Each of its partitions that takes it now; it waits with the first one's reason.
      std::string why;
      for (int32_t k : several->second) {
        std::string blocks = k < 0 ? "PartitionDown" : PartitionBlocks(state.partitions[k], s);
        if (blocks.empty()) {
          q.alternatives.emplace_back(k, &where.masks[k]);
        } else if (why.empty()) {
          why = std::move(blocks);
        }
      }
      if (q.alternatives.empty()) {
        d.reasons.emplace_back(w.id, std::move(why));
        continue;
      }
      q.partition = q.alternatives.front().first;
      q.nodes = q.alternatives.front().second;
    } else if (!state.partitions.empty()) {
      const int32_t k = where.partition[i];
      if (k < 0) {
        d.reasons.emplace_back(w.id, "PartitionDown");  // its partition was removed
        continue;
      }
      if (std::string why = PartitionBlocks(state.partitions[k], s); !why.empty()) {
        d.reasons.emplace_back(w.id, std::move(why));
        continue;
      }
      q.partition = k;
      q.nodes = &where.masks[k];
    }
    if (!s.reservation.empty()) {
      auto a = std::find_if(state.advance.begin(), state.advance.end(),
                            [&](const AdvanceReservation& r) { return r.name == s.reservation; });
      if (a == state.advance.end() || where.reservation_of[a - state.advance.begin()] == SIZE_MAX) {
        d.reasons.emplace_back(w.id, "ReservationDeleted");
        continue;
      }
      if (!a->Admits(s)) {
        d.reasons.emplace_back(w.id, "Reservation");
        continue;
      }
      q.pool = static_cast<int32_t>(where.reservation_of[a - state.advance.begin()]);
    }
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
    if (limited) {
      if (std::string why = limits.Admit(s); !why.empty()) {
        d.reasons.emplace_back(w.id, std::move(why));
        continue;
      }
    }
    queue.push_back(q);
    speeds.push_back(w.speeds);
  }
  // Phase 3.
  ChoiceStore choices;
  Choose(state.nodes, state.gpu_catalog, speeds, &queue, &d.reasons, &choices);
  // Phase 4.
  BackfillResult r = Backfill(state.now, state.nodes, state.running, queue, bf, where.reserved,
                              state.profile_cache);
  d.starts = std::move(r.starts);
  d.reservations = std::move(r.reservations);
  d.reasons.insert(d.reasons.end(), r.reasons.begin(), r.reasons.end());
  // Phase 5, on what is free once this pass's starts are taken out, for the jobs that wait
  // (not those that could never run, nor those planned in an advance reservation).
  if (PreemptionConfigured(state.partitions, state.qos) && !state.running.empty()) {
    std::set<JobId> started, never;
    for (const StartDecision& s : d.starts) started.insert(s.id);
    for (const auto& [id, why] : r.reasons) {
      if (why.rfind("ReqNodeNotAvail", 0) == 0) never.insert(id);
    }
    std::vector<Preemptor> waiting;
    for (const PendingJob& q : queue) {
      if (q.pool >= 0 || started.count(q.id) || never.count(q.id)) continue;
      waiting.push_back({q.id, q.spec, q.nodes});
    }
    d.preemptions =
        Preempt(state.nodes, d.starts, state.running, waiting, state.partitions, state.qos);
  }
  return d;
}

}  // namespace corral::sched
