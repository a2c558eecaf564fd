// The availability profile: for each up node, the CPUs, memory and GPUs that are free over time,
// as a skyline that changes only at the ends of running jobs and at the edges of reservations.
// Placement stays PlaceJob's (fit.h): a question "where would this job go over [start, end)" is
// answered by PlaceJob on NodeView snapshots of what is free throughout that interval.
// Pure (DESIGN.md rule 1). Not thread-safe: queries reuse scratch buffers held by the profile.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/job.h"
#include "common/time.h"
#include "sched/core/fit.h"
#include "sched/core/profile_level.h"

namespace corral::sched {

// A time no job reaches: the end of a job that runs without a limit.
inline constexpr TimeMs kForever = std::numeric_limits<TimeMs>::max();

// a + b for a time and a non-negative duration, kForever instead of overflowing.
TimeMs AddMs(TimeMs a, TimeMs b);

// A running job, as the profile needs it: what it holds and when it is expected to give it back.
struct RunningJob {
  JobId id = 0;
  Allocation alloc;
  TimeMs expected_end = 0;        // at or before `now`: overdue, it may end at any moment (now + 1)
  const JobSpec* spec = nullptr;  // what it asked for (QOS limits count it); may be null
  TimeMs start = 0;               // when it started (preemption takes the youngest first)
  // Being preempted already (preempt.h): what it holds is promised to its preemptor, and it is
  // not chosen again.
  bool preempting = false;
};

// A place and a time for a job: `alloc` over [start, start + its duration).
struct Slot {
  TimeMs start = 0;
  Allocation alloc;
};

// The nodes a job may use, by position in the profile's `free_now` (a partition's nodes); a
// query given none may use every node.
using NodeMask = std::vector<bool>;

class AvailabilityProfile {
 public:
  // The profile of the up nodes of `free_now` (free resources at `now`): each running job's
  // allocation comes back to its nodes at its expected end, or at now + 1 when that has passed.
  // Allocations on nodes that are not up or not listed are ignored; a node never gets back more
  // than it has. GPUs are tracked by index, at most 64 per node: a node's GPUs past the 64th are
  // never offered (no node today has more than 16). With `only`, the profile holds just the
  // nodes at those positions of `free_now` (an advance reservation's); masks still index
  // `free_now`.
  AvailabilityProfile(TimeMs now, const std::vector<NodeView>& free_now,
                      const std::vector<RunningJob>& running,
                      const std::vector<size_t>* only = nullptr);

  TimeMs now() const { return now_; }
  // The up nodes' profiles, in input order: the node set for CheckFeasible.
  std::vector<NodeProfile> UpProfiles() const;
  // Every time at which some node's free resources change, `now` included, ascending.
  std::vector<TimeMs> ChangePoints() const;
  // What each up node has free throughout [start, end), in input order (for tests, `corral
  // queue --explain` and checks). Requires now <= start < end.
  std::vector<NodeView> FreeThroughout(TimeMs start, TimeMs end) const;

  // The allocation PlaceJob chooses on what is free throughout [start, end), or nullopt when the
  // job (every component of it) does not fit there. Requires now <= start < end.
  // With `mask`, only the nodes it allows are considered (here and in EarliestStart).
  std::optional<Allocation> PlaceAt(const JobSpec& spec, TimeMs start, TimeMs end,
                                    const NodeMask* mask = nullptr) const;

  // The earliest start in [from, latest] at which the whole job fits for `duration` (> 0), with
  // its allocation, or nullopt when there is none. Starts are tried at `from` and at the change
  // points after it, ascending. Requires now <= from.
  std::optional<Slot> EarliestStart(const JobSpec& spec, TimeMs duration, TimeMs from,
                                    TimeMs latest, const NodeMask* mask = nullptr) const;

  // Takes everything of node `name` out of what is free over [start, end), for good (an
  // advance reservation kept from the other jobs). Unknown nodes and empty intervals are
  // ignored; Unreserve never gives it back.
  void Block(const std::string& name, TimeMs start, TimeMs end);
  // The up nodes' positions in `free_now`, in profile order.
  const std::vector<size_t>& Positions() const { return pos_; }

  // Takes `alloc` out of what is free over [start, end), so later queries see it. Returns false,
  // changing nothing, if any part of it (entries on one node added up) is not free throughout.
  bool Reserve(const Allocation& alloc, TimeMs start, TimeMs end);
  // Gives back what Reserve(alloc, start, end) took. The exact inverse of a successful Reserve.
  void Unreserve(const Allocation& alloc, TimeMs start, TimeMs end);

  // For a profile kept from pass to pass (profile_cache.h). Advance moves `now` forward (an
  // earlier time is ignored): what each node has free from then on is what it had at that time.
  void Advance(TimeMs now);
  // From Record on, Reserve and Unreserve are written down. RollBack undoes what was written,
  // newest first; Commit keeps it. Either way the nodes touched are left with no two neighbouring
  // steps alike, as a profile built afresh would be. Block is not written down: a profile that is
  // rolled back must not be blocked meanwhile.
  void Record();
  void RollBack();
  void Commit();

 private:
  using Level = ProfileLevel;
  struct Step {
    TimeMs t = 0;  // this level holds from t to the next step's t (the last one: forever)
    Level free;
    uint32_t slot = 0;  // past the first step: where times_[t] lists this node
  };
  struct Node {
    Level capacity;
    std::vector<uint64_t> model_gpus;  // per interned model id: which GPUs are of that model
    // Ascending t. steps[0] holds from now on (its t may be earlier: Advance leaves it), the
    // others begin after now.
    std::vector<Step> steps;
    // Nothing is reserved to start after now. Then no step falls below the one before it
    // (running jobs only give back; what starts now takes from a prefix of the steps): what is
    // free at a time is free throughout any interval from then.
    bool rising = true;
  };
  // One component's request, resolved against the interned GPU models.
  struct Need {
    int32_t nodes = 1, cpus = 0, gpus = 0;
    int32_t milli = 0;      // a share of one GPU (gpus == 1), else 0
    bool in_order = false;  // its models are in order of preference (JobSpec)
    int64_t mem_mib = 0;
    bool any_model = true;        // the request names no GPU model
    std::vector<int32_t> models;  // else: interned ids of its alternatives that some node has
  };

  // Whether a request is of GPUs on several nodes that may be of more than one model here: Place
  // then takes one model (fit.h), so counting nodes is not exact.
  bool OneModelOfMany(const Need& n) const {
    return (n.nodes > 1 || n.in_order) && n.gpus > 0 &&
           (n.any_model ? models_.size() > 1 : n.models.size() > 1);
  }
  // The components' requests; empty when the spec is malformed (fewer than one node).
  std::vector<Need> Needs(const JobSpec& spec) const;
  uint64_t ModelMask(const Node& n, const Need& need) const;
  // What node `i` has free throughout [start, end).
  Level FreeOver(size_t i, TimeMs start, TimeMs end) const;
  bool Fits(size_t i, const Need& need, const Level& free) const;
  // PlaceAt restricted to `candidates` (ascending node positions): nodes outside it must be
  // nodes that cannot serve any component over [start, end).
  std::optional<Allocation> PlaceOn(const JobSpec& spec, const std::vector<Need>& needs,
                                    const std::vector<size_t>& candidates, TimeMs start, TimeMs end,
                                    const NodeMask* mask) const;
  bool Allowed(size_t i, const NodeMask* mask) const {
    return !mask || (pos_[i] < mask->size() && (*mask)[pos_[i]]);
  }
  // Start times in [from, latest] at which node `node` could hold one node's share of a
  // component for the whole duration, all within the skyline segment of steps[step] (of a
  // rising node: from that segment on, and `step` is its last).
  struct Window {
    TimeMs first, last;
    size_t node, step;
  };
  // The index of the step that holds time t on node i.
  size_t StepAt(size_t i, TimeMs t) const;
  // Node i's first window in the segments from steps[j] on, if any.
  std::optional<Window> NextWindow(size_t i, const Need& need, TimeMs duration, TimeMs from,
                                   TimeMs latest, size_t j) const;
  // Every window of every node, ascending per node (disjoint, not merged).
  std::vector<Window> Windows(const Need& need, TimeMs duration, TimeMs from, TimeMs latest,
                              const NodeMask* mask) const;
  // The times covered by at least `count` windows, as disjoint ascending [first, last].
  static std::vector<std::pair<TimeMs, TimeMs>> Covered(const std::vector<Window>& windows,
                                                        int32_t count);
  std::optional<Slot> EarliestPlain(const JobSpec& spec, const Need& need, TimeMs duration,
                                    TimeMs from, TimeMs latest, const NodeMask* mask) const;
  // An allocation's entries added up per node; nullopt if a node is unknown or a GPU is named
  // twice or out of range.
  std::optional<std::vector<std::pair<size_t, Level>>> PerNode(const Allocation& alloc) const;
  // Takes (sign -1) or gives back (+1) `l` on node i over [start, end).
  void Apply(size_t i, const Level& l, TimeMs start, TimeMs end, int sign);
  // The index of node i's step that starts at t (0 for now), splitting the one that holds t if
  // needed.
  size_t SplitAt(size_t i, TimeMs t);
  // The steps [first, second) of node i that cover [start, end), split there; both times become
  // change points.
  std::pair<size_t, size_t> Span(size_t i, TimeMs start, TimeMs end);
  const std::vector<size_t>& OpenNow() const;
  // Whether thousandths of GPUs are kept (profile_level.h): from the first share seen on.
  bool shares_ = false;
  // Turns them on, setting every step's from its bits (no GPU is shared before).
  void KeepShares();

  TimeMs now_ = 0;
  std::vector<Node> nodes_;
  std::vector<size_t> pos_;                        // each node's position in free_now
  std::unordered_map<std::string, size_t> index_;  // node name -> position in nodes_
  std::unordered_map<std::string, int32_t> models_;
  // The times at which steps past the first begin, each with the nodes whose step it is.
  std::map<TimeMs, std::vector<uint32_t>> times_;
  // Lists node i at t, and returns where.
  uint32_t Count(TimeMs t, size_t i) {
    auto& v = times_[t];
    v.push_back(static_cast<uint32_t>(i));
    return static_cast<uint32_t>(v.size() - 1);
  }
  // Takes node i's step `st` off the list of its time.
  void Uncount(const Step& st, size_t i);

  int64_t falling_ = 0;  // nodes that are not rising
  void SetRising(size_t i, bool rising);
  // EarliestPlain when every node rises: a sweep over the change points.
  std::optional<Slot> EarliestRising(const JobSpec& spec, const Need& need, TimeMs duration,
                                     TimeMs from, TimeMs latest, const NodeMask* mask) const;
  mutable std::vector<uint32_t> seen_;  // EarliestRising's marks, by node
  mutable uint32_t sweep_ = 0;

  // Advance's bookkeeping: nodes by the time their second step begins, a min-heap (stale
  // entries are skipped; built at the first Advance).
  std::vector<std::pair<TimeMs, size_t>> due_;
  bool tracking_ = false;
  void Due(size_t i);
  // Record's journal, undone by RollBack.
  struct Change {
    size_t node;
    Level level;
    TimeMs start, end;
    int sign;
    bool rising;  // the node's, before
  };
  std::vector<Change> journal_;
  bool recording_ = false;
  void Finish(bool undo);
  // Merges node i's neighbouring steps that are alike.
  void Merge(size_t i);
  // Scratch: one view per node, each `up = false` except while a query has it set.
  mutable std::vector<NodeView> views_;
  mutable std::vector<NodeView> compact_;
  mutable std::vector<size_t> open_now_;  // ascending; nodes with a free CPU at now, pruned lazily
};

}  // namespace corral::sched
