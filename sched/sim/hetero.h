// Heterogeneity-aware placement against agnostic, as Gavel measures it (Narayanan et al., OSDI
// '20): jobs of a trace on a machine of several GPU models, each job given a job type whose
// speed per model comes from Gavel's throughput table. A job runs its trace duration on the
// fastest model and proportionally longer on a slower one (by the table). Agnostic: it takes
// whichever model has room (best fit); aware: its models fastest first, the first with room.
// Both replay through the very scheduler corrald runs (replay.h). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "sched/core/backfill.h"
#include "sched/sim/gavel.h"
#include "sched/sim/metrics.h"
#include "sched/sim/workload.h"

namespace corral::sim {

struct HeteroOptions {
  int32_t nodes_per_model = 9;  // nodes of each of the table's models, interleaved
  int32_t gpus_per_node = 4;
  int32_t cpus_per_node = 32;
  size_t jobs = 2000;  // the first jobs by submit time that fit on one node
  sched::BackfillMode mode = sched::BackfillMode::kEasy;
};

struct HeteroRun {
  Summary summary;
  std::vector<int64_t> jobs_on;  // per model of the table: jobs that ran there
};

struct HeteroResult {
  Machine machine;
  std::vector<std::string> models;  // the table's, sorted
  int64_t jobs = 0;
  // aware: the first model with room, fastest first; fastest: --gpu-choice=fastest with the
  // job's speeds, the model where it is estimated to finish soonest (it may wait for one).
  HeteroRun agnostic, aware, fastest;
};

// The job type of trace job `id`: one of the table's, by a fixed hash of the id.
const std::string& JobTypeOf(int64_t id, const GavelTable& t);

// Errors: options out of range (nodes_per_model 1..1000, gpus_per_node 1..64, cpus_per_node
// gpus_per_node..4096, jobs >= 1), a workload without a job of 1..gpus_per_node GPUs, and the
// replay's own errors.
Result<HeteroResult> CompareHeterogeneity(const Workload& w, const GavelTable& t,
                                          const HeteroOptions& o = {});

}  // namespace corral::sim
