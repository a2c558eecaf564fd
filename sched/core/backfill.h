// Backfill: jobs start in priority order, and lower-priority jobs start early into the gaps so
// long as they delay no reservation. EASY protects the first job that has to wait; conservative
// protects every waiting job. Both work on an AvailabilityProfile (profile.h) over a planning
// window; placement is PlaceJob's (fit.h). Pure (DESIGN.md rule 1): a pass is a function of its
// arguments.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sched/core/fifo.h"
#include "sched/core/profile.h"

namespace corral::sched {

class ProfileCache;

// kFcfs is no backfill at all (Slurm's sched/builtin): once a job of a partition waits, every
// later job of it waits behind it, whatever would fit.
enum class BackfillMode { kEasy, kConservative, kFcfs };
// "easy", "conservative", "fcfs", and back (false: unknown).
const char* BackfillModeName(BackfillMode m);
bool ParseBackfillMode(const std::string& s, BackfillMode* out);

// An advance reservation as backfill sees it: whole nodes (positions in free_now) kept over
// [start, end) for the jobs that ask for it (PendingJob::pool), and from every other job. A job
// in it starts no earlier than `start` and ends by `end`. One with `maintenance` takes no jobs.
struct ReservedNodes {
  std::vector<size_t> nodes;
  TimeMs start = 0, end = 0;
  bool maintenance = false;
};

// A job that waits, and where and when it is planned to start: no lower-priority job started by
// the pass takes what `alloc` needs over [start, start + its runtime).
struct Reservation {
  JobId id = 0;
  TimeMs start = 0;
  Allocation alloc;
};

// One way a job may run: its spec of one GPU model (gpu_choice.h), its runtime estimate there,
// its partition and the nodes that take it there (partition and terms.h), and its cost.
struct PendingOption {
  const JobSpec* spec = nullptr;  // owned by the caller; must outlive the call
  TimeMs runtime_ms = 0;          // <= 0: as PendingJob::runtime_ms
  int32_t partition = 0;
  const NodeMask* nodes = nullptr;  // null: every node
  double cost = 0;                  // estimated (GpuChoice::kCheapest weighs it)
};

struct PendingJob {
  JobId id = 0;
  const JobSpec* spec = nullptr;  // owned by the caller; must outlive the call
  TimeMs runtime_ms = 0;          // the runtime estimate; <= 0: unlimited (see default_runtime_ms)
  // Conservative mode: this job's reservation from the previous pass, or null (owned by the
  // caller). The pass keeps it free while it decides the other jobs, so the job starts no later
  // than it unless running jobs overrun their expected ends. Without it a pass re-plans every
  // job from scratch, and a job re-placed on other nodes may take a lower-priority job's slot.
  // One that no longer fits (a node went down, a job overran) is dropped. EASY ignores it.
  const Reservation* held = nullptr;
  // Where it may run: the nodes its partition allows (null: every node) and, with pool >= 0,
  // only within that advance reservation (a ReservedNodes of the call), else outside all.
  const NodeMask* nodes = nullptr;
  int32_t pool = -1;
  // Its partition (its position in the caller's list), for per-partition backfill: EASY
  // protects the first waiting job of each partition; conservative every waiting job of one.
  int32_t partition = 0;
  // A job of several partitions (-p a,b): each one it may run in now, with its nodes (the first
  // is `partition` and `nodes`). It starts in the first that has room now, else it is planned
  // in the one where it can start soonest.
  std::vector<std::pair<int32_t, const NodeMask*>> alternatives = {};
  // A job that weighs ways to run (GPU models, with partitions): when set, these stand for
  // `spec`, `partition`, `nodes` and `alternatives`, in the order the choice weighs them, and:
  //  - kAny: it starts in the first with room now, else where it starts soonest;
  //  - kFastest: it goes where it finishes soonest (a start now included), ties to the first;
  //  - kCheapest: of those with a slot, the least cost, then the soonest start.
  // Either way it is reserved there, or waits, as a job of one option would.
  std::vector<PendingOption> options = {};
  GpuChoice choice = GpuChoice::kAny;
};

struct BackfillConfig {
  BackfillMode mode = BackfillMode::kEasy;
  TimeMs window_ms = 7 * 24 * 3600 * 1000LL;  // no reservation starts later than now + this
  // The estimate for a job whose runtime_ms <= 0; if this is <= 0 too, such a job is planned as
  // running forever.
  TimeMs default_runtime_ms = 365 * 24 * 3600 * 1000LL;
  // Per partition (PendingJob::partition), the mode if it differs from `mode`.
  std::vector<BackfillMode> partition_modes;

  BackfillMode ModeOf(int32_t partition) const {
    return partition >= 0 && static_cast<size_t>(partition) < partition_modes.size()
               ? partition_modes[partition]
               : mode;
  }
};

struct BackfillResult {
  std::vector<StartDecision> starts;      // start now, in the order decided
  std::vector<Reservation> reservations;  // EASY: at most one; conservative: one per waiting job
  // Why each pending job that does not start waits, as Slurm names it: "Resources" for a job
  // that no higher-priority job's reservation is ahead of (it holds the first reservation, or
  // got none within the window), "Priority" for one behind a higher-priority reservation, and
  // "ReqNodeNotAvail (nodes down, being checked or failed): ..." for a job that the up nodes
  // could never hold (fifo.h); such a job blocks nobody.
  std::vector<std::pair<JobId, std::string>> reasons;
};

// One backfill pass at `now`. `free_now` holds every node's free resources now (nodes that are
// not up take no jobs), `running` the running jobs, `queue` the pending jobs in priority order,
// highest first; every one of them is considered.
//  - A job that fits now for its whole runtime, given the starts and reservations already
//    decided in this pass, starts now.
//  - EASY: the first job that does not (and gets a start within the window) is reserved at its
//    earliest start; later jobs only start now or wait.
//  - Conservative: every job that does not start now is reserved at its earliest start within
//    the window, in priority order, around the slots the jobs after it hold (PendingJob::held).
// Decisions are taken in priority order, so `starts` can be applied in order; they do not
// over-allocate `free_now`. Jobs whose runtime is unknown use cfg.default_runtime_ms.
// Advance reservations (`reserved`) take their nodes out of everyone else's profile over their
// windows; each one's jobs are planned on a profile of its own nodes.
// With `cache` (profile_cache.h), and no advance reservation, the profile of the running jobs
// comes from it instead of being built; the result is the same.
BackfillResult Backfill(TimeMs now, const std::vector<NodeView>& free_now,
                        const std::vector<RunningJob>& running,
                        const std::vector<PendingJob>& queue, const BackfillConfig& cfg,
                        const std::vector<ReservedNodes>& reserved = {},
                        ProfileCache* cache = nullptr);

}  // namespace corral::sched
