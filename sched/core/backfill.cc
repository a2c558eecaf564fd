#include "sched/core/backfill.h"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include "sched/core/feasibility.h"
#include "sched/core/profile_cache.h"

namespace corral::sched {

const char* BackfillModeName(BackfillMode m) {
  switch (m) {
    case BackfillMode::kEasy:
      return "easy";
    case BackfillMode::kConservative:
      return "conservative";
    case BackfillMode::kFcfs:
      return "fcfs";
  }
  return "easy";
}

bool ParseBackfillMode(const std::string& s, BackfillMode* out) {
  for (BackfillMode m : {BackfillMode::kEasy, BackfillMode::kConservative, BackfillMode::kFcfs}) {
    if (s == BackfillModeName(m)) return *out = m, true;
  }
  return false;
}

namespace {

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
       const BackfillConfig& cfg, const std::vector<ReservedNodes>& reserved, ProfileCache* cache)
      : now_(now),
        cfg_(cfg),
        latest_(AddMs(now, std::max<TimeMs>(cfg.window_ms, 0))),
        reserved_nodes_(reserved),
        cache_(reserved.empty() ? cache : nullptr) {  // the cache's profile takes no Block
    auto own = [&](const std::vector<size_t>* only) {
      owned_.push_back(std::make_unique<AvailabilityProfile>(now, free_now, running, only));
      return owned_.back().get();
    };
    profiles_.push_back(cache_ ? &cache_->Begin(now, free_now, running) : own(nullptr));
    for (const ReservedNodes& r : reserved) {
      for (size_t at : r.nodes) {
        if (at < free_now.size()) profiles_[0]->Block(free_now[at].profile.name, r.start, r.end);
      }
      profiles_.push_back(r.maintenance ? nullptr : own(&r.nodes));
    }
  }
  ~Pass() {
    if (cache_) cache_->End();
  }
  Pass(const Pass&) = delete;
  Pass& operator=(const Pass&) = delete;

  // Conservative: takes the held reservations that still fit out of the profile, highest
  // priority first, so nobody else is placed on them.
  void Hold(const std::vector<PendingJob>& queue) {
    for (const PendingJob& q : queue) {
      if (!q.held || cfg_.ModeOf(q.partition) != BackfillMode::kConservative) continue;
      AvailabilityProfile* p = ProfileOf(q);
      if (!p) continue;
      TimeMs start = std::max(q.held->start, now_);
      TimeMs end = AddMs(start, Runtime(q, cfg_));
      if (p->Reserve(q.held->alloc, start, end)) {
        held_.emplace(q.id, Held{start, end, &q.held->alloc, p});
      }
    }
  }

  void Decide(const PendingJob& q) {
    if (q.alternatives.size() > 1 || !q.options.empty()) return DecideAmong(q);
    const JobSpec& spec = *q.spec;
    AvailabilityProfile* profile = ProfileOf(q);
    std::optional<Held> held = Release(q.id);
    if (!profile) {
      r_.reasons.emplace_back(q.id, "ReservationDeleted");
      return;
    }
    // No backfill: behind a job of its partition that waits, a job waits too.
    const bool fcfs = cfg_.ModeOf(q.partition) == BackfillMode::kFcfs;
    if (fcfs && blocked_.count(q.partition)) {
      r_.reasons.emplace_back(q.id, "Priority");
      return;
    }
    Scope& scope = ScopeOf(q, *profile);
    std::string key = ShapeKey(spec);
    if (const std::string* why = Unavailable(spec, key, scope)) {
      r_.reasons.emplace_back(q.id, *why);
      return;
    }
    const TimeMs runtime = Runtime(q, cfg_);
    const auto [first, last_end, latest] = WindowOf(q, runtime);
    Memo scratch;
    Memo& m = spec.het.empty()
                  ? scope.memos[key.append(reinterpret_cast<const char*>(&runtime), sizeof runtime)]
                  : scratch;
    if (m.generation != generation_) m = Memo{generation_};
    const bool plain = spec.het.empty();
    const Frontier::Shape shape = Frontier::Of(spec, runtime);
    if (plain && !m.not_now && scope.not_now.Covers(shape)) m.not_now = true;
    const TimeMs end = AddMs(now_, runtime);
    if (!m.not_now && first == now_ && end <= last_end) {
      std::optional<Allocation> a = profile->PlaceAt(spec, now_, end, q.nodes);
      if (a && profile->Reserve(*a, now_, end)) {
        r_.starts.push_back({q.id, std::move(*a), q.partition});
        return;
      }
      m.not_now = true;
      if (plain) scope.not_now.Add(shape);
    }
    // A held slot whose time has come starts even where PlaceJob would now choose otherwise (a
    // hetjob's components are placed greedily, so it may not find the slot again).
    if (held && held->start == now_ && end <= last_end &&
        profile->Reserve(*held->alloc, now_, end)) {
      r_.starts.push_back({q.id, *held->alloc, q.partition});
      return;
    }
    if (fcfs) blocked_.insert(q.partition);
    const bool waits_behind = reserved_.count(q.partition) > 0;
    r_.reasons.emplace_back(q.id, first > now_   ? "Reservation"
                                  : waits_behind ? "Priority"
                                                 : "Resources");
    if (waits_behind && cfg_.ModeOf(q.partition) != BackfillMode::kConservative) return;
    if (plain && !m.no_start && scope.no_start.Covers(shape)) m.no_start = true;
    std::optional<Slot> slot;
    if (!m.no_start) {
      TimeMs from = std::max({m.from, now_ + 1, first});
      if (from <= latest) slot = profile->EarliestStart(spec, runtime, from, latest, q.nodes);
    }
    if (!slot) {
      m.no_start = true;
      if (plain) scope.no_start.Add(shape);
    }
    // Never later than held: the held slot is free again, but a hetjob's search may miss it, and
    // a shrunk window may end before it.
    if (held && (!slot || slot->start > held->start)) slot = Slot{held->start, *held->alloc};
    if (!slot || !profile->Reserve(slot->alloc, slot->start, AddMs(slot->start, runtime))) return;
    if (!held) m.from = slot->start;
    r_.reservations.push_back({q.id, slot->start, std::move(slot->alloc)});
    reserved_.insert(q.partition);
  }

  // A job of several options (partitions, GPU models): PendingJob::options says which it takes.
  // The learning of Memo and Frontier is left out: it is kept per scope, and such jobs are few.
  void DecideAmong(const PendingJob& q) {
    AvailabilityProfile* profile = ProfileOf(q);
    std::optional<Held> held = Release(q.id);
    if (!profile) {
      r_.reasons.emplace_back(q.id, "ReservationDeleted");
      return;
    }
    std::vector<PendingOption> options = q.options;
    if (options.empty()) {
      for (const auto& [part, nodes] : q.alternatives) {
        options.push_back({q.spec, q.runtime_ms, part, nodes, 0});
      }
    }
    const GpuChoice rule = q.options.empty() ? GpuChoice::kAny : q.choice;
    struct Open {
      const PendingOption* o;
      TimeMs runtime;
    };
    std::string unavailable;
    std::vector<Open> open;  // those it may run in
    for (const PendingOption& o : options) {
      if (cfg_.ModeOf(o.partition) == BackfillMode::kFcfs && blocked_.count(o.partition)) continue;
      // What ScopeOf and Runtime read of the job, for this option (no copy of its options).
      PendingJob in;
      in.pool = q.pool, in.partition = o.partition, in.nodes = o.nodes;
      if (const std::string* why = Unavailable(*o.spec, ShapeKey(*o.spec), ScopeOf(in, *profile))) {
        if (unavailable.empty()) unavailable = *why;
        continue;
      }
      in.runtime_ms = o.runtime_ms > 0 ? o.runtime_ms : q.runtime_ms;
      open.push_back({&o, Runtime(in, cfg_)});
    }
    if (open.empty()) {
      r_.reasons.emplace_back(q.id, unavailable.empty() ? "Priority" : unavailable);
      return;
    }
    // Where it could start, option by option: now, or its earliest start (or never).
    struct Found {
      const Open* at = nullptr;
      Slot slot;
    };
    std::optional<Found> best;
    bool behind = false, any_now = false;
    std::vector<int32_t> fcfs;  // FCFS partitions it waits in, if it does not start
    auto better = [&](const Open& x, TimeMs start) {
      if (!best) return true;
      switch (rule) {
        case GpuChoice::kAny:
          return start < best->slot.start;
        case GpuChoice::kFastest:
          return AddMs(start, x.runtime) < AddMs(best->slot.start, best->at->runtime);
        case GpuChoice::kCheapest:
          return std::tie(x.o->cost, start) < std::tie(best->at->o->cost, best->slot.start);
      }
      return false;
    };
    for (const Open& x : open) {
      const auto [first, last_end, latest] = WindowOf(q, x.runtime);
      const TimeMs end = AddMs(now_, x.runtime);
      if (first == now_ && end <= last_end && better(x, now_)) {
        if (std::optional<Allocation> a = profile->PlaceAt(*x.o->spec, now_, end, x.o->nodes)) {
          best = Found{&x, Slot{now_, std::move(*a)}};
          any_now = true;
          if (rule == GpuChoice::kAny) break;  // the first with room now
          continue;
        }
      }
      if (any_now && rule == GpuChoice::kAny) continue;
      if (cfg_.ModeOf(x.o->partition) == BackfillMode::kFcfs) fcfs.push_back(x.o->partition);
      if (reserved_.count(x.o->partition) &&
          cfg_.ModeOf(x.o->partition) != BackfillMode::kConservative) {
        behind = true;  // behind a reservation of its partition: it may start now or wait
        continue;
      }
      const TimeMs from = std::max(now_ + 1, first);
      if (from > latest || !better(x, from)) continue;
      std::optional<Slot> s =
          profile->EarliestStart(*x.o->spec, x.runtime, from, latest, x.o->nodes);
      if (s && better(x, s->start)) best = Found{&x, std::move(*s)};
    }
    if (best && best->slot.start == now_ &&
        profile->Reserve(best->slot.alloc, now_, AddMs(now_, best->at->runtime))) {
      r_.starts.push_back({q.id, std::move(best->slot.alloc), best->at->o->partition,
                           q.options.empty() ? 0 : best->at->runtime});
      return;
    }
    const TimeMs runtime = Runtime(q, cfg_);
    const Window w = WindowOf(q, runtime);
    const TimeMs first = w.first, last_end = w.last_end;
    if (held && held->start == now_ && AddMs(now_, runtime) <= last_end &&
        profile->Reserve(*held->alloc, now_, AddMs(now_, runtime))) {
      r_.starts.push_back({q.id, *held->alloc, q.partition});
      return;
    }
    blocked_.insert(fcfs.begin(), fcfs.end());
    r_.reasons.emplace_back(q.id, first > now_      ? "Reservation"
                                  : behind && !best ? "Priority"
                                                    : "Resources");
    TimeMs length = best ? best->at->runtime : runtime;
    int32_t part = best ? best->at->o->partition : q.partition;
    if (held && (!best || best->slot.start > held->start)) {
      best = Found{nullptr, Slot{held->start, *held->alloc}}, length = runtime, part = q.partition;
    }
    if (!best || best->slot.start == now_ ||
        !profile->Reserve(best->slot.alloc, best->slot.start, AddMs(best->slot.start, length))) {
      return;
    }
    r_.reservations.push_back({q.id, best->slot.start, std::move(best->slot.alloc)});
    reserved_.insert(part);
  }

  BackfillResult Take() { return std::move(r_); }

 private:
  struct Held {
    TimeMs start, end;
    const Allocation* alloc;
    AvailabilityProfile* profile;
  };
  // What the pass learns per profile and node mask: what the nodes could ever hold, and which
  // requests do not fit (Memo, Frontier).
  struct Scope {
    // Kept by the cache across passes for every node's scope; else the pass's own.
    std::optional<Feasibility> own_feasibility;
    std::unordered_map<std::string, std::optional<std::string>> own_unavailable;
    Feasibility* feasibility = nullptr;
    std::unordered_map<std::string, std::optional<std::string>>* unavailable = nullptr;  // by key
    std::unordered_map<std::string, Memo> memos;  // by ShapeKey + runtime
    Frontier not_now, no_start;                   // this generation's
  };

  static TimeMs SubDuration(TimeMs end, TimeMs d) {
    return d >= end ? std::numeric_limits<TimeMs>::min() : end - d;
  }

  // When a job may run: from `first` (now, or its advance reservation's start), ending by
  // `last_end` (its reservation's end, else never), starting no later than `latest`.
  struct Window {
    TimeMs first, last_end, latest;
  };
  Window WindowOf(const PendingJob& q, TimeMs runtime) const {
    Window w{now_, kForever, latest_};
    if (q.pool >= 0) {
      w.first = std::max(now_, reserved_nodes_[q.pool].start);
      w.last_end = reserved_nodes_[q.pool].end;
      if (w.last_end != kForever) w.latest = std::min(latest_, SubDuration(w.last_end, runtime));
    }
    return w;
  }

  AvailabilityProfile* ProfileOf(const PendingJob& q) const {
    if (q.pool < 0) return profiles_[0];
    if (static_cast<size_t>(q.pool) >= reserved_nodes_.size()) return nullptr;
    return profiles_[q.pool + 1];
  }

  Scope& ScopeOf(const PendingJob& q, const AvailabilityProfile& profile) {
    auto [it, fresh] = scopes_.try_emplace({q.pool, q.nodes});
    Scope& s = it->second;
    if (fresh && cache_ && q.pool < 0 && !q.nodes) {
      s.feasibility = &cache_->feasibility();
      s.unavailable = &cache_->unavailable();
    } else if (fresh) {
      s.unavailable = &s.own_unavailable;
      std::vector<NodeProfile> up = profile.UpProfiles();
      if (q.nodes) {
        std::vector<NodeProfile> in;
        const auto& pos = profile.Positions();
        for (size_t i = 0; i < up.size(); ++i) {
          if (pos[i] < q.nodes->size() && (*q.nodes)[pos[i]]) in.push_back(std::move(up[i]));
        }
        up = std::move(in);
      }
      s.feasibility = &s.own_feasibility.emplace(up);
    }
    return s;
  }

  // Gives a job's held slot back to the profile for its own decision.
  std::optional<Held> Release(JobId id) {
    auto it = held_.find(id);
    if (it == held_.end()) return std::nullopt;
    Held h = it->second;
    held_.erase(it);
    h.profile->Unreserve(*h.alloc, h.start, h.end);
    ++generation_;
    for (auto& [k, s] : scopes_) s.not_now.Clear(), s.no_start.Clear();
    return h;
  }

  // The ReqNodeNotAvail reason of a job no up node (of its scope) could hold, or null.
  const std::string* Unavailable(const JobSpec& spec, const std::string& key, Scope& scope) {
    auto [u, fresh] = scope.unavailable->try_emplace(key);
    if (fresh) {
      if (Status st = scope.feasibility->Check(spec); !st.ok()) {
        u->second = "ReqNodeNotAvail (nodes down, being checked or failed): " + st.message();
      }
    }
    return u->second ? &*u->second : nullptr;
  }

  const TimeMs now_;
  const BackfillConfig cfg_;
  const TimeMs latest_;
  const std::vector<ReservedNodes>& reserved_nodes_;
  ProfileCache* const cache_;
  // [0]: the cluster outside advance reservations; [k + 1]: reservation k (null: maintenance).
  std::vector<AvailabilityProfile*> profiles_;
  std::vector<std::unique_ptr<AvailabilityProfile>> owned_;
  std::map<std::pair<int32_t, const NodeMask*>, Scope> scopes_;
  BackfillResult r_;
  // Partitions in which a higher-priority job holds a reservation: later ones wait on it.
  std::set<int32_t> reserved_;
  // FCFS partitions in which a job waits: every later one waits behind it.
  std::set<int32_t> blocked_;
  std::unordered_map<JobId, Held> held_;
  int64_t generation_ = 0;
};

}  // namespace

BackfillResult Backfill(TimeMs now, const std::vector<NodeView>& free_now,
                        const std::vector<RunningJob>& running,
                        const std::vector<PendingJob>& queue, const BackfillConfig& cfg,
                        const std::vector<ReservedNodes>& reserved, ProfileCache* cache) {
  Pass pass(now, free_now, running, cfg, reserved, cache);
  pass.Hold(queue);
  for (const PendingJob& q : queue) pass.Decide(q);
  return pass.Take();
}

}  // namespace corral::sched
