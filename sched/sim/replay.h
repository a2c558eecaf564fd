// The replay of a workload on a virtual clock: at every submit and every end while a CPU is
// free, one pass of sched::Schedule, the very call corrald makes (DESIGN.md "Scheduling"), whose
// starts are applied as corrald applies them. No policy lives here: the machine, the jobs and
// the clock only. The scheduler's state is kept from pass to pass and changed by each event, not
// rebuilt, so a pass costs what the scheduler costs. Pure apart from the optional callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sched/core/schedule.h"
#include "sched/sim/metrics.h"
#include "sched/sim/workload.h"

namespace corral::sim {

// A job already running when the replay begins (a window of a trace on a busy machine): it
// holds its resources from the start until `end_s`, and is planned to end at `expected_end_s`.
// It is not one of the replay's jobs and is not measured.
struct PrefillJob {
  SimJob job;
  int64_t start_s = 0, end_s = 0, expected_end_s = 0;
};

struct ReplayOptions {
  sched::BackfillMode mode = sched::BackfillMode::kEasy;
  // Verify while replaying: no node over-allocated, no start before submit, every job ending at
  // start + its run time cut at its limit, no job started twice.
  bool check = false;
  // Placed in order before the first job arrives, until one does not fit (the rest are left
  // out and counted in ReplayResult::prefill_left_out).
  std::vector<PrefillJob> prefill;
  // Fair share (fairshare.h) as a priority factor: every user of the trace under one account,
  // with equal shares; a job's CPU- and GPU-seconds are charged to its user when it ends, and
  // usage decays with `half_life_ms`. Priority is then Slurm's multifactor with weights
  // fairshare 10000 and age 1000 (a week to full age).
  bool fairshare = false;
  TimeMs half_life_ms = 7LL * 24 * 3600 * 1000;
  // Keep the scheduler's profile of the running jobs from pass to pass (profile_cache.h): the
  // same replay, faster. Off: every pass builds it, as corrald does.
  bool reuse_profile = true;
  // Jobs asking for a share of one GPU (Alibaba's gpu_milli) get that share of a device, others
  // sharing the rest of it (gpu_share.h). Off: each is given a whole GPU, as Slurm would, and
  // counted in Summary::fractional_rounded.
  bool share_gpus = true;
  // The run time of job k (in submit order) once it starts on `where`, from the trace's
  // `run_s`: a heterogeneous machine runs a job slower on a slower GPU (hetero.h). Cut at its
  // limit (at least 1 s). Unset: the trace's.
  std::function<int64_t(size_t k, const Allocation& where, int64_t run_s)> run_on;
  // The speeds of job k per GPU model (for --gpu-choice=fastest), or null: the catalog's.
  std::function<const sched::GpuSpeeds*(size_t k)> speeds_of;
  // Called every `progress_every` passes, and once at the end: jobs ended so far, all jobs,
  // and the simulated time in seconds.
  std::function<void(int64_t ended, int64_t total, int64_t sim_s)> progress;
  int64_t progress_every = 2000;
  // Called at each event time after its pass: the busy share of the machine's GPUs (of its
  // CPUs when it has none), and the jobs waiting.
  std::function<void(int64_t t_s, double busy, int64_t queued)> sample;
};

struct ReplayResult {
  std::vector<JobOutcome> jobs;  // in submit order
  Summary summary;
  int64_t prefill_placed = 0, prefill_left_out = 0;
  // With reuse_profile: the passes that built the scheduler's profile, and those that reused it.
  int64_t profile_builds = 0, profile_reuses = 0;
};

// Replays `w` on `m`. A job that could never run on `m` (too wide, a GPU model it lacks) is
// not queued; it never runs, with the scheduler's reason. Errors: a machine without nodes or
// CPUs, or larger than a million nodes.
Result<ReplayResult> Replay(const Workload& w, const Machine& m, const ReplayOptions& opts);

}  // namespace corral::sim
