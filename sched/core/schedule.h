// The scheduler's one pure call (DESIGN.md "Scheduling"): corrald and the simulator build a
// SchedulerState, call Schedule, and apply the Decisions; neither holds a policy of its own.
// A pass runs these phases, each a policy of its own file:
//   1. order: partition tier first (partition.h), then multifactor priority (priority.h), ties
//      to the lower job id;
//   2. eligible: a job's partition must take it (state, time, node count, account; partition.h;
//      a job of several, -p a,b, goes on with those that do)
//      and its advance reservation admit it (advance_reservation.h); array throttles
//      (`--array=...%N`) hold back the tasks beyond N (here), and QOS and account limits the
//      jobs beyond them (limits.h), all in priority order;
//   3. choose: the ways a job may run, by GPU model (--gpu-choice) and by the terms of nodes
//      and job (choose.h);
//   4. backfill: start now what fits, on the partition's nodes, reserve for what waits
//      (backfill.h, EASY or conservative per partition; a job of several partitions starts in
//      the first with room, or is planned in the one where it starts soonest);
//   5. preempt: a job still waiting may preempt running jobs it outranks (preempt.h).
// Every pending job is considered in every pass.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sched/core/advance_reservation.h"
#include "sched/core/backfill.h"
#include "sched/core/gpu_choice.h"
#include "sched/core/limits.h"
#include "sched/core/partition.h"
#include "sched/core/preempt.h"
#include "sched/core/priority.h"
#include "sched/core/runtime_model.h"

namespace corral::sched {

struct WaitingJob {
  JobId id = 0;
  const JobSpec* spec = nullptr;  // owned by the caller
  PriorityInputs priority;
  // Conservative backfill: this job's reservation from the last pass (owned by the caller).
  const Reservation* held = nullptr;
  // How long it is planned to run (runtime_model.h); 0: its time limit.
  TimeMs runtime_ms = 0;
  // Its speed per GPU model, where known for it (a workload table); else the catalog's.
  const GpuSpeeds* speeds = nullptr;
};

struct SchedulerState {
  TimeMs now = 0;
  std::vector<NodeView> nodes;      // every node, with what is free now (`up` = takes jobs)
  std::vector<RunningJob> running;  // with their expected ends (and whether being preempted)
  std::vector<WaitingJob> pending;  // eligible to start (not held, dependencies met), any order
  std::map<JobId, int32_t> array_running;  // an array's first id -> its tasks running now
  std::map<std::string, Qos> qos;          // by name; jobs name theirs (QosOf)
  // Accounts with their parents and group limits, by name (empty: no account limits).
  std::map<std::string, AccountLimits> accounts;
  // Empty: one partition of every node, and -p is not looked at. Else a job without -p is in
  // the default one (DefaultPartition).
  std::vector<Partition> partitions;
  std::vector<AdvanceReservation> advance;  // those ended are ignored
  GpuCatalog gpu_catalog;  // each GPU model's rate and speed (terms.h); empty: free, alike
  // Optional, kept by the caller from pass to pass (profile_cache.h): the same decisions, faster.
  ProfileCache* profile_cache = nullptr;
};

struct SchedulerConfig {
  PriorityWeights weights;
  BackfillConfig backfill;
  RuntimeModel runtime_model = RuntimeModel::kLimit;  // applied by whoever builds the state
};

struct Decisions {
  std::vector<StartDecision> starts;      // in the order to apply them
  std::vector<Reservation> reservations;  // where and when waiting jobs are planned to start
  // Why each pending job that does not start waits (Slurm's reason names: Priority, Resources,
  // JobArrayTaskLimit, ReqNodeNotAvail ...).
  std::vector<std::pair<JobId, std::string>> reasons;
  // Running jobs to preempt, for waiting jobs that start once they are gone.
  std::vector<PreemptDecision> preemptions;
};

Decisions Schedule(const SchedulerState& state, const SchedulerConfig& config);

// The cluster's totals over the up nodes, for the size factors.
ClusterTotals Totals(const std::vector<NodeView>& nodes);

// Phase 1 alone: the positions of `pending` in the order a pass considers them. `tiers`, when
// given, holds each job's partition tier, which ranks before priority.
std::vector<size_t> PriorityOrder(TimeMs now, const std::vector<WaitingJob>& pending,
                                  const ClusterTotals& totals, const PriorityWeights& w,
                                  const std::vector<int32_t>* tiers = nullptr);

}  // namespace corral::sched
