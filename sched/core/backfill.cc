#include "sched/core/backfill.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

namespace corral::sched {
namespace {

// CheckFeasible over the up nodes, cheaply: it only asks of each node its CPUs, memory and GPU
// models, and counts nodes only up to the job's node count, so nodes alike in those are kept
// once per node the job could use. The answer, message included, is the one on every node.
class Feasibility {
 public:
  explicit Feasibility(const std::vector<NodeProfile>& up) {
    std::map<std::tuple<int32_t, int64_t, std::vector<std::string>>, size_t> seen;
    for (const NodeProfile& p : up) {
      std::vector<std::string> models;
      for (const GpuDevice& g : p.gpus) models.push_back(g.model);
      std::sort(models.begin(), models.end());
      auto [it, fresh] = seen.try_emplace({p.cpus, p.mem_mib, std::move(models)}, kinds_.size());
      if (fresh) kinds_.push_back({p, 0});
      ++kinds_[it->second].count;
    }
  }

  Status Check(const JobSpec& spec) {
    int32_t most = std::max(spec.nodes, 1);
    for (const auto& h : spec.het) most = std::max(most, h.nodes);
    auto [it, fresh] = lists_.try_emplace(most);
    if (fresh) {
      for (const Kind& k : kinds_)
        it->second.insert(it->second.end(), std::min(k.count, most), k.p);
    }
    return CheckFeasible(spec, it->second);
  }

 private:
  struct Kind {
    NodeProfile p;
    int32_t count;
  };
  std::vector<Kind> kinds_;
  std::map<int32_t, std::vector<NodeProfile>> lists_;  // by the most nodes a component asks for
};

// The resource request of every component: what CheckFeasible and PlaceJob read of a spec.
std::string ShapeKey(const JobSpec& s) {
  std::string k;
  auto put = [&k](int64_t v) { k.append(reinterpret_cast<const char*>(&v), sizeof v); };
  auto component = [&](int32_t nodes, int32_t ntasks, int32_t cpt, int64_t mem,
                       const std::string& model, int32_t gpus, int32_t gpn) {
    put(nodes), put(ntasks), put(cpt), put(mem), put(gpus), put(gpn);
    k += model;
    k += '\0';
  };
  component(s.nodes, s.ntasks, s.cpus_per_task, s.mem_mib, s.gpu_model, s.gpus, s.gpus_per_node);
  for (const auto& h : s.het) {
    component(h.nodes, h.ntasks, h.cpus_per_task, h.mem_mib, h.gpu_model, h.gpus, h.gpus_per_node);
  }
  return k;
}

// What the pass has learnt about one request and runtime. Between two releases of a held
// reservation the profile only loses free resources, and for a plain job fitting is monotone in
// them (counting nodes is exact), so a later job of the same key cannot fit now once one did
// not, and cannot start before the time the last one was reserved at. A heterogeneous job's
// components compete for nodes in PlaceJob's order, which is not monotone: such jobs keep none.
struct Memo {
  int64_t generation = 0;  // the number of releases when it was learnt; stale after another
  bool not_now = false;    // did not fit now
  TimeMs from = 0;         // no earlier start than this
  bool no_start = false;   // no start from `from` within the window
};

// Plain jobs' requests per node, with runtimes, known not to fit (now, or anywhere in the
// window). A request at least as large in every respect, for at least as long, does not fit
// either: fitting is monotone in all of them. Only the minimal ones are kept.
class Frontier {
 public:
  struct Shape {
    int32_t nodes, cpus, gpus;
    int64_t mem_mib;
    const std::string* model;  // the spec's; empty = any model
    TimeMs runtime;
  };

  static Shape Of(const JobSpec& s, TimeMs runtime) {
    return {s.nodes, s.CpusPerNode(), s.GpusPerNode(), s.mem_mib, &s.gpu_model, runtime};
  }
  bool Covers(const Shape& s) const {
    for (const Shape& f : shapes_)
      if (AtLeast(s, f)) return true;
    return false;
  }
  void Add(const Shape& s) {
    if (Covers(s)) return;
    std::erase_if(shapes_, [&](const Shape& f) { return AtLeast(f, s); });
    shapes_.push_back(s);
  }
  void Clear() { shapes_.clear(); }

 private:
  // Whether `a` asks for at least what `b` asks for.
  static bool AtLeast(const Shape& a, const Shape& b) {
    if (a.nodes < b.nodes || a.cpus < b.cpus || a.mem_mib < b.mem_mib || a.runtime < b.runtime) {
      return false;
    }
    if (b.gpus == 0) return true;
    return a.gpus >= b.gpus && (b.model->empty() || *a.model == *b.model);
  }
  std::vector<Shape> shapes_;
};

TimeMs Runtime(const PendingJob& q, const BackfillConfig& cfg) {
  if (q.runtime_ms > 0) return q.runtime_ms;
  return cfg.default_runtime_ms > 0 ? cfg.default_runtime_ms : kForever;
}

class Pass {
 public:
  Pass(TimeMs now, const std::vector<NodeView>& free_now, const std::vector<RunningJob>& running,
       const BackfillConfig& cfg)
      : now_(now),
        cfg_(cfg),
        latest_(AddMs(now, std::max<TimeMs>(cfg.window_ms, 0))),
        profile_(now, free_now, running),
        feasibility_(profile_.UpProfiles()) {}

  // Conservative: takes the held reservations that still fit out of the profile, highest
  // priority first, so nobody else is placed on them.
  void Hold(const std::vector<PendingJob>& queue) {
    for (const PendingJob& q : queue) {
      if (!q.held) continue;
      TimeMs start = std::max(q.held->start, now_);
      TimeMs end = AddMs(start, Runtime(q, cfg_));
      if (profile_.Reserve(q.held->alloc, start, end)) {
        held_.emplace(q.id, Held{start, end, &q.held->alloc});
      }
    }
  }

  void Decide(const PendingJob& q) {
    const JobSpec& spec = *q.spec;
    std::string key = ShapeKey(spec);
    std::optional<Held> held = Release(q.id);
    if (const std::string* why = Unavailable(spec, key)) {
      r_.reasons.emplace_back(q.id, *why);
      return;
    }
    const TimeMs runtime = Runtime(q, cfg_);
    Memo scratch;
    Memo& m = spec.het.empty()
                  ? memos_[key.append(reinterpret_cast<const char*>(&runtime), sizeof runtime)]
                  : scratch;
    if (m.generation != generation_) m = Memo{generation_};
    const bool plain = spec.het.empty();
    const Frontier::Shape shape = Frontier::Of(spec, runtime);
    if (plain && !m.not_now && not_now_.Covers(shape)) m.not_now = true;
    const TimeMs end = AddMs(now_, runtime);
    if (!m.not_now) {
      std::optional<Allocation> a = profile_.PlaceAt(spec, now_, end);
      if (a && profile_.Reserve(*a, now_, end)) {
        r_.starts.push_back({q.id, std::move(*a)});
        return;
      }
      m.not_now = true;
      if (plain) not_now_.Add(shape);
    }
    // A held slot whose time has come starts even where PlaceJob would now choose otherwise (a
    // hetjob's components are placed greedily, so it may not find the slot again).
    if (held && held->start == now_ && profile_.Reserve(*held->alloc, now_, end)) {
      r_.starts.push_back({q.id, *held->alloc});
      return;
    }
    r_.reasons.emplace_back(q.id, reserved_ ? "Priority" : "Resources");
    if (reserved_ && cfg_.mode == BackfillMode::kEasy) return;
    if (plain && !m.no_start && no_start_.Covers(shape)) m.no_start = true;
    std::optional<Slot> slot;
    if (!m.no_start)
      slot = profile_.EarliestStart(spec, runtime, std::max(m.from, now_ + 1), latest_);
    if (!slot) {
      m.no_start = true;
      if (plain) no_start_.Add(shape);
    }
    // Never later than held: the held slot is free again, but a hetjob's search may miss it, and
    // a shrunk window may end before it.
    if (held && (!slot || slot->start > held->start)) slot = Slot{held->start, *held->alloc};
    if (!slot || !profile_.Reserve(slot->alloc, slot->start, AddMs(slot->start, runtime))) return;
    if (!held) m.from = slot->start;
    r_.reservations.push_back({q.id, slot->start, std::move(slot->alloc)});
    reserved_ = true;
  }

  BackfillResult Take() { return std::move(r_); }

 private:
  struct Held {
    TimeMs start, end;
    const Allocation* alloc;
  };

  // Gives a job's held slot back to the profile for its own decision.
  std::optional<Held> Release(JobId id) {
    auto it = held_.find(id);
    if (it == held_.end()) return std::nullopt;
    Held h = it->second;
    held_.erase(it);
    profile_.Unreserve(*h.alloc, h.start, h.end);
    ++generation_;
    not_now_.Clear();
    no_start_.Clear();
    return h;
  }

  // The ReqNodeNotAvail reason of a job no up node could hold, or null.
  const std::string* Unavailable(const JobSpec& spec, const std::string& key) {
    auto [u, fresh] = unavailable_.try_emplace(key);
    if (fresh) {
      if (Status st = feasibility_.Check(spec); !st.ok()) {
        u->second = "ReqNodeNotAvail (nodes down, being checked or failed): " + st.message();
      }
    }
    return u->second ? &*u->second : nullptr;
  }

  const TimeMs now_;
  const BackfillConfig cfg_;
  const TimeMs latest_;
  AvailabilityProfile profile_;
  Feasibility feasibility_;
  BackfillResult r_;
  bool reserved_ = false;  // a higher-priority job holds a reservation: later ones wait on it
  std::unordered_map<JobId, Held> held_;
  int64_t generation_ = 0;
  std::unordered_map<std::string, std::optional<std::string>> unavailable_;  // by ShapeKey
  std::unordered_map<std::string, Memo> memos_;  // by ShapeKey + runtime
  Frontier not_now_, no_start_;                  // this generation's
};

}  // namespace

BackfillResult Backfill(TimeMs now, const std::vector<NodeView>& free_now,
                        const std::vector<RunningJob>& running,
                        const std::vector<PendingJob>& queue, const BackfillConfig& cfg) {
  Pass pass(now, free_now, running, cfg);
  if (cfg.mode == BackfillMode::kConservative) pass.Hold(queue);
  for (const PendingJob& q : queue) pass.Decide(q);
  return pass.Take();
}

}  // namespace corral::sched
