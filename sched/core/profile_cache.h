// The availability profile of the running jobs, kept from pass to pass for a caller that
// reports every start and end (the simulator), so that a pass costs what its decisions cost and
// not a rebuild of every node's skyline. Schedule given one (SchedulerState::profile_cache)
// decides exactly as it does without: a pass's own reservations are rolled back when it ends.
// What the cache cannot see needs Reset, after which the next pass builds the profile from the
// state again: a node's profile or `up` changing, a running job's expected end changing. A pass
// whose state holds another number of nodes or running jobs than the cache does rebuilds too.
// Pure (DESIGN.md rule 1); not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sched/core/feasibility.h"
#include "sched/core/priority.h"
#include "sched/core/profile.h"

namespace corral::sched {

class ProfileCache {
 public:
  void Reset();
  // After a pass at the profile's time: job `id` holds `alloc` from now until `expected_end`
  // (now + 1 when that is not later), as the next pass's RunningJob will say.
  void Started(JobId id, const Allocation& alloc, TimeMs expected_end);
  // Job `id` ended (at or after the last pass): what it held is free.
  void Ended(JobId id);

  // For Backfill. The profile of `running` on `free_now` at `now` (>= the last pass's), in
  // recording mode; End rolls back what the pass reserved in it.
  AvailabilityProfile& Begin(TimeMs now, const std::vector<NodeView>& free_now,
                             const std::vector<RunningJob>& running);
  void End();
  // What the up nodes could ever hold (backfill.cc's Scope for every node), kept while the
  // nodes are: a Feasibility of them, and each request shape's ReqNodeNotAvail reason.
  Feasibility& feasibility();
  std::unordered_map<std::string, std::optional<std::string>>& unavailable() {
    return unavailable_;
  }

  // The up nodes' totals (Totals, schedule.h), kept while the nodes are; `compute` makes them.
  template <typename F>
  ClusterTotals Totals(const std::vector<NodeView>& nodes, F compute) {
    if (!totals_ || totals_nodes_ != nodes.size()) totals_ = compute(nodes);
    totals_nodes_ = nodes.size();
    return *totals_;
  }

  // Passes that built the profile afresh, and passes that reused it (for tests and benches).
  int64_t builds() const { return builds_; }
  int64_t reuses() const { return reuses_; }

 private:
  struct Job {
    Allocation alloc;
    TimeMs back = 0;  // when the profile gives its resources back
  };
  std::optional<AvailabilityProfile> profile_;
  size_t nodes_ = 0;
  std::unordered_map<JobId, Job> jobs_;
  std::vector<std::pair<TimeMs, JobId>> backs_;  // a min-heap by `back`; stale entries skipped
  std::optional<Feasibility> feasibility_;
  std::unordered_map<std::string, std::optional<std::string>> unavailable_;
  std::optional<ClusterTotals> totals_;
  size_t totals_nodes_ = 0;
  int64_t builds_ = 0, reuses_ = 0;
  void Push(TimeMs back, JobId id);
};

}  // namespace corral::sched
