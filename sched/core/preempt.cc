#include "sched/core/preempt.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

namespace corral::sched {

const char* PreemptModeName(PreemptMode m) {
  switch (m) {
    case PreemptMode::kOff:
      return "off";
    case PreemptMode::kRequeue:
      return "requeue";
    case PreemptMode::kCancel:
      return "cancel";
  }
  return "off";
}

bool ParsePreemptMode(const std::string& s, PreemptMode* out) {
  for (PreemptMode v : {PreemptMode::kOff, PreemptMode::kRequeue, PreemptMode::kCancel}) {
    if (s == PreemptModeName(v)) return *out = v, true;
  }
  return false;
}

namespace {

// A requeue of a job that may not go back to the queue is a cancel.
PreemptTerms Settle(PreemptTerms t, const JobSpec& victim) {
  if (t.mode == PreemptMode::kRequeue && (!victim.requeue || victim.interactive)) {
    t.mode = PreemptMode::kCancel;
  }
  return t;
}

const Qos* QosFor(const std::map<std::string, Qos>& qos, const JobSpec& s) {
  auto it = qos.find(QosOf(s));
  return it == qos.end() ? nullptr : &it->second;
}

int32_t TierOf(const std::vector<Partition>& parts, const JobSpec& s) {
  const Partition* p = TopPartition(parts, s.partition);
  return p ? p->priority_tier : 0;
}

// A trial pool: copies of the nodes one preemptor may use, which victims are given back to.
struct Trial {
  std::vector<NodeView> nodes;
  NodeIndex pos;
  int64_t cpus = 0, gpus = 0;  // free over all of them: PlaceJob is asked only when enough

  void Add(const NodeView& n) {
    pos.emplace(n.profile.name, nodes.size());
    nodes.push_back(n);
    cpus += n.free_cpus;
    gpus += std::count(n.gpu_free.begin(), n.gpu_free.end(), true);
  }
  void Count(const Allocation& alloc, int sign) {
    for (const NodeAllocation& a : alloc) {
      if (!pos.count(a.node)) continue;
      cpus += sign * a.cpus;
      gpus += sign * static_cast<int64_t>(a.gpu_indices.size());
    }
  }
  void Give(const Allocation& a) { GiveAt(a, pos, &nodes), Count(a, 1); }
  void Take(const Allocation& a) { TakeAt(a, pos, &nodes), Count(a, -1); }
  std::optional<Allocation> Fit(const JobSpec& s) const {
    if (cpus < s.TotalCpus() || gpus < s.TotalGpus()) return std::nullopt;
    Placement p = PlaceJob(s, nodes);
    if (p.kind != Placement::Kind::kPlaced) return std::nullopt;
    return std::move(p.alloc);
  }
};

}  // namespace

std::optional<PreemptTerms> TermsFor(const JobSpec& preemptor, const JobSpec& victim,
                                     const std::vector<Partition>& parts,
                                     const std::map<std::string, Qos>& qos) {
  const Partition* pp = TopPartition(parts, preemptor.partition);
  const Partition* vp = FindPartition(parts, victim.partition);
  if (pp && vp && pp->priority_tier > vp->priority_tier && vp->preempt_mode != PreemptMode::kOff) {
    return Settle({vp->preempt_mode, vp->grace_ms}, victim);
  }
  const Qos* pq = QosFor(qos, preemptor);
  const Qos* vq = QosFor(qos, victim);
  if (pq && vq && vq->preempt_mode != PreemptMode::kOff &&
      std::find(pq->preempt.begin(), pq->preempt.end(), vq->name) != pq->preempt.end()) {
    return Settle({vq->preempt_mode, vq->grace_ms}, victim);
  }
  return std::nullopt;
}

bool PreemptionConfigured(const std::vector<Partition>& parts,
                          const std::map<std::string, Qos>& qos) {
  for (const Partition& v : parts) {
    if (v.preempt_mode == PreemptMode::kOff) continue;
    for (const Partition& p : parts) {
      if (p.priority_tier > v.priority_tier) return true;
    }
  }
  for (const auto& [name, q] : qos) {
    if (!q.preempt.empty()) return true;
  }
  return false;
}

std::vector<PreemptDecision> Preempt(const std::vector<NodeView>& free,
                                     const std::vector<StartDecision>& starts,
                                     const std::vector<RunningJob>& running,
                                     const std::vector<Preemptor>& waiting,
                                     const std::vector<Partition>& parts,
                                     const std::map<std::string, Qos>& qos) {
  std::vector<PreemptDecision> out;
  if (waiting.empty() || running.empty() || !PreemptionConfigured(parts, qos)) return out;
  const NodeIndex pos = IndexNodes(free);
  // What is free, and what the jobs being preempted already will give back.
  std::vector<NodeView> pool = free;
  for (const StartDecision& s : starts) TakeAt(s.alloc, pos, &pool);
  for (const RunningJob& r : running) {
    if (r.preempting) GiveAt(r.alloc, pos, &pool);
  }
  // Each running job's price as a victim, and whether it is still there to be chosen.
  struct Price {
    int32_t tier;
    int64_t qos_priority;
    TimeMs start;
    JobId id;
  };
  std::vector<Price> price(running.size());
  std::vector<bool> open(running.size(), false);
  size_t left = 0;
  for (size_t i = 0; i < running.size(); ++i) {
    const RunningJob& r = running[i];
    if (r.preempting || !r.spec) continue;
    const Qos* q = QosFor(qos, *r.spec);
    price[i] = {TierOf(parts, *r.spec), q ? q->priority : 0, r.start, r.id};
    open[i] = true;
    ++left;
  }
  auto cheaper = [&](size_t a, size_t b) {
    const Price &x = price[a], &y = price[b];
    return std::tie(x.tier, x.qos_priority, y.start, y.id) <
           std::tie(y.tier, y.qos_priority, x.start, x.id);
  };
  // How each candidate may be preempted by the current preemptor (scratch).
  std::vector<std::optional<PreemptTerms>> terms(running.size());
  // Nodes with a candidate victim on them, per preemptor (scratch).
  std::vector<bool> has_victim(free.size(), false);
  for (const Preemptor& w : waiting) {
    if (left == 0) break;  // nobody is left to preempt
    if (!w.spec) continue;
    auto allowed = [&](size_t i) { return pool[i].up && (!w.nodes || (*w.nodes)[i]); };
    std::vector<size_t> cands;
    for (size_t i = 0; i < running.size(); ++i) {
      if (!open[i]) continue;
      terms[i] = TermsFor(*w.spec, *running[i].spec, parts, qos);
      if (!terms[i]) continue;
      bool inside = false;
      for (const NodeAllocation& a : running[i].alloc) {
        auto it = pos.find(a.node);
        if (it != pos.end() && allowed(it->second)) inside = true;
      }
      if (inside) cands.push_back(i);
    }
    for (size_t c : cands) {
      for (const NodeAllocation& a : running[c].alloc) {
        if (auto it = pos.find(a.node); it != pos.end()) has_victim[it->second] = true;
      }
    }
    Trial t;
    for (size_t i = 0; i < pool.size(); ++i) {
      if (allowed(i) && (pool[i].free_cpus > 0 || has_victim[i])) t.Add(pool[i]);
      has_victim[i] = false;
    }
    std::optional<Allocation> fit = t.Fit(*w.spec);
    std::vector<size_t> victims;
    if (!fit && !cands.empty()) {
      std::sort(cands.begin(), cands.end(), cheaper);
      // One victim alone, the cheapest that is enough.
      for (size_t c : cands) {
        t.Give(running[c].alloc);
        fit = t.Fit(*w.spec);
        if (fit) {
          victims.push_back(c);
          break;
        }
        t.Take(running[c].alloc);
      }
      // Else the cheapest until it fits, then without those it can do without.
      for (size_t k = 0; !fit && k < cands.size(); ++k) {
        t.Give(running[cands[k]].alloc);
        victims.push_back(cands[k]);
        fit = t.Fit(*w.spec);
      }
      if (!fit) continue;  // not even all of them make room: it waits, preempting nobody
      if (victims.size() > 1) {
        for (size_t k = victims.size(); k-- > 0;) {
          t.Take(running[victims[k]].alloc);
          if (auto without = t.Fit(*w.spec)) {
            fit = std::move(without);
            victims.erase(victims.begin() + static_cast<std::ptrdiff_t>(k));
          } else {
            t.Give(running[victims[k]].alloc);
          }
        }
      }
    }
    if (!fit) continue;
    // What the victims hold comes to the pool, and the preemptor's place is taken from it.
    for (size_t v : victims) {
      GiveAt(running[v].alloc, pos, &pool);
      open[v] = false;
      --left;
      out.push_back({running[v].id, w.id, *terms[v]});
    }
    TakeAt(*fit, pos, &pool);
  }
  return out;
}

}  // namespace corral::sched
