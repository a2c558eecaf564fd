#include "sched/core/profile.h"

#include <algorithm>
#include <bit>

namespace corral::sched {

TimeMs AddMs(TimeMs a, TimeMs b) {
  TimeMs r;
  if (__builtin_add_overflow(a, b, &r) || r == kForever) return kForever;
  return r;
}

namespace {

constexpr size_t kMaxGpus = 64;

TimeMs SubMs(TimeMs a, TimeMs b) {
  TimeMs r;
  if (__builtin_sub_overflow(a, b, &r)) return std::numeric_limits<TimeMs>::min();
  return r;
}

uint64_t Bit(size_t i) {
  return i < kMaxGpus ? uint64_t{1} << i : 0;
}

uint64_t Bits(const std::vector<bool>& free) {
  uint64_t b = 0;
  for (size_t i = 0; i < free.size(); ++i)
    if (free[i]) b |= Bit(i);
  return b;
}

// Sets a view's free resources to those of `l`. Thousandths taken are kept on the view only
// where some GPU is shared.
void SetFree(NodeView* v, const ProfileLevel& l) {
  v->free_cpus = l.cpus;
  v->free_mem_mib = l.mem_mib;
  v->gpu_free.resize(v->profile.gpus.size());
  for (size_t g = 0; g < v->gpu_free.size(); ++g) v->gpu_free[g] = (l.gpus & Bit(g)) != 0;
  v->gpu_milli_used.clear();
  bool shared = false;
  for (size_t g = 0; g < kShareGpus && g < v->gpu_free.size(); ++g) {
    shared = shared || (l.used[g] > 0 && l.used[g] < kWholeGpu);
  }
  if (!shared) return;
  v->gpu_milli_used.resize(v->gpu_free.size());
  for (size_t g = 0; g < v->gpu_free.size(); ++g) {
    v->gpu_milli_used[g] = g < kShareGpus ? l.used[g] : (v->gpu_free[g] ? 0 : kWholeGpu);
  }
}

}  // namespace

AvailabilityProfile::AvailabilityProfile(TimeMs now, const std::vector<NodeView>& free_now,
                                         const std::vector<RunningJob>& running,
                                         const std::vector<size_t>* only)
    : now_(now) {
  const size_t count = only ? only->size() : free_now.size();
  auto shared = [](int32_t m) { return m > 0 && m < kWholeGpu; };
  for (const NodeView& v : free_now)
    shares_ = shares_ || std::ranges::any_of(v.gpu_milli_used, shared);
  for (const RunningJob& r : running) {
    for (const NodeAllocation& a : r.alloc) shares_ = shares_ || shared(a.gpu_milli);
  }
  index_.reserve(count);
  nodes_.reserve(count);
  views_.reserve(count);
  pos_.reserve(count);
  for (size_t k = 0; k < count; ++k) {
    const size_t at = only ? (*only)[k] : k;
    if (at >= free_now.size()) continue;
    const NodeView& v = free_now[at];
    if (!v.up || index_.count(v.profile.name)) continue;  // a repeated name: the first one counts
    Node n;
    const auto& gpus = v.profile.gpus;
    for (size_t g = 0; g < gpus.size() && g < kMaxGpus; ++g) {
      auto [it, fresh] = models_.try_emplace(gpus[g].model, static_cast<int32_t>(models_.size()));
      if (n.model_gpus.size() <= static_cast<size_t>(it->second)) {
        n.model_gpus.resize(it->second + 1, 0);
      }
      n.model_gpus[it->second] |= Bit(g);
      n.capacity.gpus |= Bit(g);
    }
    n.capacity.cpus = v.profile.cpus;
    n.capacity.mem_mib = v.profile.mem_mib;
    Level first{v.free_cpus, v.free_mem_mib, Bits(v.gpu_free) & n.capacity.gpus, {}};
    for (size_t g = 0; shares_ && g < kShareGpus; ++g) {
      first.used[g] = static_cast<uint16_t>(g < gpus.size() ? GpuUsedMilli(v, g) : kWholeGpu);
    }
    n.steps.push_back({now, first});
    index_.emplace(v.profile.name, nodes_.size());
    pos_.push_back(at);
    if (v.free_cpus > 0) open_now_.push_back(nodes_.size());
    nodes_.push_back(std::move(n));
    views_.push_back(v);
    views_.back().up = false;
  }
  // What each node gets back, and when.
  std::vector<std::vector<std::pair<TimeMs, Level>>> back(nodes_.size());
  for (const RunningJob& r : running) {
    TimeMs end = r.expected_end <= now ? now + 1 : r.expected_end;
    for (const NodeAllocation& a : r.alloc) {
      auto it = index_.find(a.node);
      if (it == index_.end()) continue;
      if (std::optional<Level> part = PartOf(a)) back[it->second].push_back({end, *part});
    }
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    auto& b = back[i];
    std::sort(b.begin(), b.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    Node& n = nodes_[i];
    Level cur = n.steps[0].free;
    for (size_t k = 0; k < b.size(); ++k) {
      cur.Apply(b[k].second, +1, shares_);
      cur.cpus = std::min(cur.cpus, n.capacity.cpus);
      cur.mem_mib = std::min(cur.mem_mib, n.capacity.mem_mib);
      cur.gpus &= n.capacity.gpus;
      if (k + 1 < b.size() && b[k + 1].first == b[k].first) continue;
      n.steps.push_back({b[k].first, cur, Count(b[k].first, i)});
    }
  }
}

std::vector<NodeProfile> AvailabilityProfile::UpProfiles() const {
  std::vector<NodeProfile> out;
  out.reserve(views_.size());
  for (const NodeView& v : views_) out.push_back(v.profile);
  return out;
}

std::vector<AvailabilityProfile::Need> AvailabilityProfile::Needs(const JobSpec& spec) const {
  std::vector<Need> out;
  for (size_t c = 0; c < spec.NumComponents(); ++c) {
    // Only the resource fields: JobSpec::Component would copy the script and environment too.
    JobSpec r;
    if (c == 0) {
      r.nodes = spec.nodes, r.ntasks = spec.ntasks, r.cpus_per_task = spec.cpus_per_task;
      r.gpus = spec.gpus, r.gpus_per_node = spec.gpus_per_node;
    } else {
      const JobSpec::HetComponent& h = spec.het[c - 1];
      r.nodes = h.nodes, r.ntasks = h.ntasks, r.cpus_per_task = h.cpus_per_task;
      r.gpus = h.gpus, r.gpus_per_node = h.gpus_per_node;
    }
    const std::string& model = c == 0 ? spec.gpu_model : spec.het[c - 1].gpu_model;
    Need n;
    n.nodes = r.nodes;
    n.cpus = r.CpusPerNode();
    n.gpus = r.GpusPerNode();
    if (c == 0 && spec.gpu_milli > 0 && spec.gpu_milli < kWholeGpu) n.milli = spec.gpu_milli;
    n.in_order = c == 0 && spec.gpu_models_in_order;
    n.mem_mib = c == 0 ? spec.mem_mib : spec.het[c - 1].mem_mib;
    if (!model.empty()) {
      n.any_model = false;
      for (const auto& [name, id] : models_) {
        if (GpuModelMatches(model, name)) n.models.push_back(id);
      }
    }
    if (n.nodes < 1) return {};  // malformed: CheckFeasible says why
    out.push_back(n);
  }
  return out;
}

uint64_t AvailabilityProfile::ModelMask(const Node& n, const Need& need) const {
  if (need.any_model) return n.capacity.gpus;
  uint64_t mask = 0;
  for (int32_t id : need.models) {
    if (static_cast<size_t>(id) < n.model_gpus.size()) mask |= n.model_gpus[id];
  }
  return mask;
}

// The same per-node test as Place's (fit.cc): enough free CPUs, memory and GPUs of the model.
// Here it only narrows the nodes a snapshot holds; Place decides.
bool AvailabilityProfile::Fits(size_t i, const Need& need, const Level& free) const {
  if (free.cpus < need.cpus || free.mem_mib < need.mem_mib) return false;
  if (need.milli > 0) return free.HasShare(ModelMask(nodes_[i], need), need.milli, shares_);
  return need.gpus <= 0 || std::popcount(free.gpus & ModelMask(nodes_[i], need)) >= need.gpus;
}

AvailabilityProfile::Level AvailabilityProfile::FreeOver(size_t i, TimeMs start, TimeMs end) const {
  const auto& s = nodes_[i].steps;
  size_t j = StepAt(i, start);
  Level l = s[j].free;
  for (size_t k = j + 1; k < s.size() && s[k].t < end; ++k) l.Meet(s[k].free, shares_);
  return l;
}

std::vector<NodeView> AvailabilityProfile::FreeThroughout(TimeMs start, TimeMs end) const {
  std::vector<NodeView> out = views_;
  for (size_t i = 0; i < out.size(); ++i) {
    Level l = FreeOver(i, start, end);
    SetFree(&out[i], l);
    out[i].up = true;
  }
  return out;
}

const std::vector<size_t>& AvailabilityProfile::OpenNow() const {
  std::erase_if(open_now_, [&](size_t i) { return nodes_[i].steps[0].free.cpus <= 0; });
  return open_now_;
}

std::optional<Allocation> AvailabilityProfile::PlaceAt(const JobSpec& spec, TimeMs start,
                                                       TimeMs end, const NodeMask* mask) const {
  std::vector<Need> needs = Needs(spec);
  if (needs.empty() || start < now_ || end <= start) return std::nullopt;
  // Every job needs a CPU on each of its nodes, so at `now` only nodes with one free can serve.
  std::vector<size_t> all;
  if (start != now_) {
    all.resize(nodes_.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  }
  return PlaceOn(spec, needs, start == now_ ? OpenNow() : all, start, end, mask);
}

std::optional<Allocation> AvailabilityProfile::PlaceOn(const JobSpec& spec,
                                                       const std::vector<Need>& needs,
                                                       const std::vector<size_t>& candidates,
                                                       TimeMs start, TimeMs end,
                                                       const NodeMask* mask) const {
  // What a candidate has free, without the thousandths (the choice of a plain job reads only
  // these; the rest is read again for the nodes chosen).
  struct Fit {
    size_t node;
    int32_t cpus;
    uint64_t gpus;
  };
  std::vector<Fit> fits;
  auto level = [&](size_t i) {
    return start == now_ && nodes_[i].rising ? nodes_[i].steps[0].free : FreeOver(i, start, end);
  };
  std::vector<int32_t> count(needs.size(), 0);
  auto any_fits = [&](size_t i, const Level& l) {
    for (const Need& n : needs)
      if (Fits(i, n, l)) return true;
    return false;
  };
  for (size_t i : candidates) {
    if (!Allowed(i, mask)) continue;
    // What is free at `now` bounds what is free from then on: a cheap first test.
    const Node& n = nodes_[i];
    if (start == now_ && !any_fits(i, n.steps[0].free)) continue;
    Level over;
    const bool first = start == now_ && n.rising;
    if (!first) over = FreeOver(i, start, end);
    const Level& l = first ? n.steps[0].free : over;
    bool any = false;
    for (size_t c = 0; c < needs.size(); ++c) {
      if (Fits(i, needs[c], l)) ++count[c], any = true;
    }
    if (any) fits.push_back({i, l.cpus, l.gpus});
  }
  for (size_t c = 0; c < needs.size(); ++c)
    if (count[c] < needs[c].nodes) return std::nullopt;
  // A plain job: Place's choice, made here on the levels (its measure, PlacementWaste, and its
  // ties to the first node), without a snapshot of the nodes. Views are set only for the GPU
  // nodes chosen, for Place's own pick of their GPUs.
  if (spec.het.empty() && needs.size() == 1 && needs[0].milli == 0 && !OneModelOfMany(needs[0])) {
    const Need& need = needs[0];
    struct Candidate {
      int64_t waste;
      size_t k;  // into fits, in node order
    };
    std::vector<Candidate> cands;
    cands.reserve(fits.size());
    for (size_t k = 0; k < fits.size(); ++k) {
      const Fit& f = fits[k];
      cands.push_back({PlacementWaste(f.cpus, std::popcount(f.gpus), need.cpus, need.gpus), k});
    }
    auto better = [](const Candidate& a, const Candidate& b) {
      return a.waste != b.waste ? a.waste < b.waste : a.k < b.k;
    };
    std::partial_sort(cands.begin(), cands.begin() + need.nodes, cands.end(), better);
    Allocation alloc;
    alloc.reserve(need.nodes);
    for (int32_t c = 0; c < need.nodes; ++c) {
      const Fit& f = fits[cands[c].k];
      NodeView& v = views_[f.node];
      NodeAllocation a;
      a.node = v.profile.name;
      a.cpus = need.cpus;
      a.mem_mib = need.mem_mib;
      if (need.gpus > 0) {
        SetFree(&v, level(f.node));
        a.gpu_indices = PickGpus(v, spec.gpu_model, need.gpus);
      }
      alloc.push_back(std::move(a));
    }
    return alloc;
  }
  // A heterogeneous job: PlaceJob on a snapshot of the nodes that could serve; nodes it leaves
  // out are nodes Place would pass over, so its choice is the one it makes on every node.
  compact_.resize(fits.size());
  for (size_t k = 0; k < fits.size(); ++k) {
    compact_[k] = views_[fits[k].node];
    SetFree(&compact_[k], level(fits[k].node));
    compact_[k].up = true;
  }
  Placement p = PlaceJob(spec, compact_);
  if (p.kind != Placement::Kind::kPlaced) return std::nullopt;
  return std::move(p.alloc);
}

size_t AvailabilityProfile::StepAt(size_t i, TimeMs t) const {
  const auto& s = nodes_[i].steps;
  if (s.size() < 2 || t < s[1].t) return 0;
  auto it =
      std::upper_bound(s.begin(), s.end(), t, [](TimeMs x, const Step& st) { return x < st.t; });
  return it == s.begin() ? 0 : static_cast<size_t>(it - s.begin()) - 1;
}

std::optional<AvailabilityProfile::Window> AvailabilityProfile::NextWindow(
    size_t i, const Need& need, TimeMs duration, TimeMs from, TimeMs latest, size_t j) const {
  const auto& s = nodes_[i].steps;
  for (; j < s.size(); ++j) {
    TimeMs a = std::max(s[j].t, from);
    if (a > latest) break;
    if (!Fits(i, need, s[j].free)) continue;
    // Rising: every later step holds at least as much, so the window runs to `latest`, as one.
    if (nodes_[i].rising) return Window{a, latest, i, s.size() - 1};
    TimeMs last = std::min(j + 1 < s.size() ? s[j + 1].t - 1 : kForever, latest);
    // Starts t in [a, last] also see step k once t > s[k].t - duration.
    Level acc = s[j].free;
    for (size_t k = j + 1; k < s.size(); ++k) {
      TimeMs unseen_until = SubMs(s[k].t, duration);
      if (last <= unseen_until) break;
      acc.Meet(s[k].free, shares_);
      if (!Fits(i, need, acc)) {
        last = unseen_until;
        break;
      }
    }
    if (last >= a) return Window{a, last, i, j};
  }
  return std::nullopt;
}

std::vector<AvailabilityProfile::Window> AvailabilityProfile::Windows(const Need& need,
                                                                      TimeMs duration, TimeMs from,
                                                                      TimeMs latest,
                                                                      const NodeMask* mask) const {
  std::vector<Window> out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!Allowed(i, mask) || !Fits(i, need, nodes_[i].capacity)) continue;
    for (auto w = NextWindow(i, need, duration, from, latest, StepAt(i, from)); w;
         w = NextWindow(i, need, duration, from, latest, w->step + 1)) {
      out.push_back(*w);
    }
  }
  return out;
}

std::vector<std::pair<TimeMs, TimeMs>> AvailabilityProfile::Covered(
    const std::vector<Window>& windows, int32_t count) {
  std::vector<std::pair<TimeMs, int32_t>> events;
  for (const Window& w : windows) {
    events.push_back({w.first, 1});
    if (w.last != kForever) events.push_back({w.last + 1, -1});
  }
  std::sort(events.begin(), events.end());
  std::vector<std::pair<TimeMs, TimeMs>> out;
  int32_t n = 0;
  bool in = false;
  TimeMs in_from = 0;
  for (size_t e = 0; e < events.size();) {
    TimeMs t = events[e].first;
    for (; e < events.size() && events[e].first == t; ++e) n += events[e].second;
    if (!in && n >= count) {
      in = true, in_from = t;
    } else if (in && n < count) {
      in = false;
      out.push_back({in_from, t - 1});
    }
  }
  if (in) out.push_back({in_from, kForever});  // only windows without end are left open
  return out;
}

namespace {
std::vector<std::pair<TimeMs, TimeMs>> Intersect(const std::vector<std::pair<TimeMs, TimeMs>>& a,
                                                 const std::vector<std::pair<TimeMs, TimeMs>>& b) {
  std::vector<std::pair<TimeMs, TimeMs>> out;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    TimeMs lo = std::max(a[i].first, b[j].first), hi = std::min(a[i].second, b[j].second);
    if (lo <= hi) out.push_back({lo, hi});
    if (a[i].second < b[j].second) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}
}  // namespace

std::optional<Slot> AvailabilityProfile::EarliestStart(const JobSpec& spec, TimeMs duration,
                                                       TimeMs from, TimeMs latest,
                                                       const NodeMask* mask) const {
  std::vector<Need> needs = Needs(spec);
  if (needs.empty() || duration <= 0 || from < now_ || from > latest) return std::nullopt;
  if (needs.size() == 1 && OneModelOfMany(needs[0])) {
    // It takes one model of several (fit.h Place): the earliest start of any of them.
    std::vector<int32_t> ids = needs[0].models;
    if (needs[0].any_model) {
      for (const auto& [name, id] : models_) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    std::optional<Slot> best;
    for (int32_t id : ids) {
      Need one = needs[0];
      one.any_model = false, one.models = {id};
      std::optional<Slot> s =
          EarliestPlain(spec, one, duration, from, best ? best->start : latest, mask);
      if (s && (!best || s->start < best->start)) best = std::move(s);
    }
    return best;
  }
  if (needs.size() == 1) return EarliestPlain(spec, needs[0], duration, from, latest, mask);
  // A hetjob: the times at which every component has enough nodes, tried in order; its
  // components compete for nodes, so one such time may not place and a later one may.
  std::vector<size_t> candidates;
  std::vector<std::pair<TimeMs, TimeMs>> ok;
  for (size_t c = 0; c < needs.size(); ++c) {
    std::vector<Window> w = Windows(needs[c], duration, from, latest, mask);
    for (const Window& x : w) candidates.push_back(x.node);
    auto covered = Covered(w, needs[c].nodes);
    ok = c == 0 ? std::move(covered) : Intersect(ok, covered);
    if (ok.empty()) return std::nullopt;
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (const auto& [first, last] : ok) {
    for (TimeMs t = first; t <= last && t <= latest;) {
      if (auto alloc = PlaceOn(spec, needs, candidates, t, AddMs(t, duration), mask)) {
        return Slot{t, std::move(*alloc)};
      }
      auto next = times_.upper_bound(t);
      if (next == times_.end()) break;
      t = next->first;
    }
  }
  return std::nullopt;
}

// A plain job places wherever need.nodes nodes can each hold its share (counting is exact), so
// the earliest start is the first window start at which that many windows are open. Windows
// come from a heap by start holding each node's next one, so a node's skyline is read only up
// to the answer.
std::optional<Slot> AvailabilityProfile::EarliestPlain(const JobSpec& spec, const Need& need,
                                                       TimeMs duration, TimeMs from, TimeMs latest,
                                                       const NodeMask* mask) const {
  if (falling_ == 0 && need.cpus > 0)
    return EarliestRising(spec, need, duration, from, latest, mask);
  auto later_start = [](const Window& a, const Window& b) { return a.first > b.first; };
  auto earlier_end = [](const Window& a, const Window& b) { return a.last > b.last; };
  std::vector<Window> next;  // each node's next window not yet begun
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!Allowed(i, mask) || !Fits(i, need, nodes_[i].capacity)) continue;
    if (auto w = NextWindow(i, need, duration, from, latest, StepAt(i, from))) next.push_back(*w);
  }
  if (static_cast<int32_t>(next.size()) < need.nodes) return std::nullopt;
  std::make_heap(next.begin(), next.end(), later_start);
  std::vector<Window> open;   // windows begun, by end; a node's windows are disjoint
  std::vector<Window> begun;  // those that began at t: their nodes' next windows come after
  while (!next.empty()) {
    const TimeMs t = next.front().first;
    begun.clear();
    while (!next.empty() && next.front().first == t) {
      std::pop_heap(next.begin(), next.end(), later_start);
      begun.push_back(next.back());
      next.pop_back();
      open.push_back(begun.back());
      std::push_heap(open.begin(), open.end(), earlier_end);
    }
    while (!open.empty() && open.front().last < t) {
      std::pop_heap(open.begin(), open.end(), earlier_end);
      open.pop_back();
    }
    if (static_cast<int32_t>(open.size()) >= need.nodes) {
      std::vector<size_t> at;  // the nodes that can serve from t: one open window each
      for (const Window& w : open) at.push_back(w.node);
      std::sort(at.begin(), at.end());
      if (auto alloc = PlaceOn(spec, {need}, at, t, AddMs(t, duration), mask)) {
        return Slot{t, std::move(*alloc)};
      }
    }
    for (const Window& w : begun) {
      if (auto n = NextWindow(w.node, need, duration, from, latest, w.step + 1)) {
        next.push_back(*n);
        std::push_heap(next.begin(), next.end(), later_start);
      }
    }
  }
  return std::nullopt;
}

// Every node rising, a node's window begins at the first of its steps from `from` on that holds
// the share and lasts to `latest`: the earliest start is the first time by which need.nodes
// nodes have begun one. At `from` the nodes that can serve are those with a free CPU now and
// those whose skyline changes by then; after it, a node begins only at one of its own steps.
// So the sweep visits those nodes and then the change points in order, not every node, and
// tries the same times on the same nodes as EarliestPlain's search over windows.
std::optional<Slot> AvailabilityProfile::EarliestRising(const JobSpec& spec, const Need& need,
                                                        TimeMs duration, TimeMs from, TimeMs latest,
                                                        const NodeMask* mask) const {
  if (seen_.size() != nodes_.size() || ++sweep_ == 0) {
    seen_.assign(nodes_.size(), 0);
    sweep_ = 1;
  }
  std::vector<size_t> begun;
  // Counts node i if it can serve at t (which is `from` or one of its change points).
  auto consider = [&](size_t i, TimeMs t) {
    if (seen_[i] == sweep_) return;
    if (!Allowed(i, mask) || !Fits(i, need, nodes_[i].capacity)) {
      seen_[i] = sweep_;  // never
      return;
    }
    if (!Fits(i, need, nodes_[i].steps[StepAt(i, t)].free)) return;
    seen_[i] = sweep_;
    begun.push_back(i);
  };
  auto place = [&](TimeMs t) -> std::optional<Slot> {
    if (static_cast<int32_t>(begun.size()) < need.nodes) return std::nullopt;
    std::vector<size_t> at = begun;
    std::sort(at.begin(), at.end());
    if (auto alloc = PlaceOn(spec, {need}, at, t, AddMs(t, duration), mask)) {
      return Slot{t, std::move(*alloc)};
    }
    return std::nullopt;
  };
  for (size_t i : OpenNow()) consider(i, from);
  auto it = times_.upper_bound(now_);
  for (; it != times_.end() && it->first <= from; ++it) {
    for (uint32_t i : it->second) consider(i, from);
  }
  if (auto slot = place(from)) return slot;
  for (; it != times_.end() && it->first <= latest; ++it) {
    const size_t before = begun.size();
    for (uint32_t i : it->second) consider(i, it->first);
    if (begun.size() == before) continue;
    if (auto slot = place(it->first)) return slot;
  }
  return std::nullopt;
}

std::vector<TimeMs> AvailabilityProfile::ChangePoints() const {
  std::vector<TimeMs> out{now_};
  for (const auto& [t, nodes] : times_) out.push_back(t);
  return out;
}

}  // namespace corral::sched
