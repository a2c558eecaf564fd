// Choosing a GPU model (schedule.h phase 3, before backfill): a job that asks for GPUs without
// one model (--gpus=4, or alternatives) and with --gpu-choice=fastest|cheapest may take each
// model the cluster has, within its price cap; each is an option with the runtime and cost
// estimated for it there. Backfill then takes, of those with a slot, the one that finishes
// soonest (fastest) or costs least (cheapest). Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/job.h"
#include "common/time.h"
#include "sched/core/terms.h"

namespace corral::sched {

// Speeds for one job by model (Gavel's throughputs for its job type, say), over the catalog's.
using GpuSpeeds = std::map<std::string, double>;

struct ModelOption {
  std::string model;
  TimeMs runtime_ms = 0;  // the estimate on it
  double cost = 0;  // estimated, in micro-units: rate x GPUs x hours (rate alone if unlimited)
};

// Whether the job weighs models: GPUs, of no one model, with a choice other than any, and of
// one component (a hetjob's models are as given).
bool ChoosesModel(const JobSpec& s);

// The models of `present` that the job may take (those its gpu_model matches, at a rate within
// its --max-price), with their estimates. `runtime_ms` is the job's estimate, taken to hold on
// the slowest of them so that a time limit holds wherever it runs: on model m it is
// runtime_ms x slowest / speed(m), rounded up. A model of unknown speed counts as the slowest
// known (all alike when none is known); an unlimited runtime (<= 0) stays unlimited. In the
// order the choice weighs them: fastest by runtime, then cost; cheapest by cost, then runtime;
// then by name.
std::vector<ModelOption> ModelOptions(const JobSpec& s, TimeMs runtime_ms,
                                      const std::vector<std::string>& present,
                                      const GpuCatalog& catalog, const GpuSpeeds* speeds = nullptr);

}  // namespace corral::sched
