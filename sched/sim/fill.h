// The fragmentation experiment of the FGD paper ("Beware of Fragmentation", ATC '23) on a pod
// list such as Alibaba's: pods arrive in order, cycling through the list, and each is placed at
// once or refused (no queue, and nothing ends), until the GPU demand that arrived is `until`
// times the machine's GPUs. How much of the GPU capacity is allocated as it fills measures how
// much a placement policy loses to fragmentation. Pure apart from the clock it never reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "sched/sim/metrics.h"
#include "sched/sim/workload.h"

namespace corral::sim {

enum class FillPolicy {
  kCorral,     // the scheduler's own Place (fit.h) with the mix of pods arrived so far (FGD)
  kPlain,      // the scheduler's own Place without a mix: best fit, shares first (gpu_share.h)
  kFirstFit,   // the first node that fits, its first GPUs with room (Slurm's default order)
  kBestFit,    // the node left with the least free GPU capacity, then CPUs; first GPUs there
  kWholeGpus,  // Place, but a share of a GPU takes a whole one (Slurm without GPU sharing)
};
const char* FillPolicyName(FillPolicy p);
bool ParseFillPolicy(const std::string& s, FillPolicy* out);

struct FillPoint {
  double arrived = 0;    // GPU demand that arrived, as a share of the machine's GPUs
  double allocated = 0;  // GPU capacity allocated (shares counted as such), likewise
};

struct FillResult {
  std::vector<FillPoint> curve;  // as arrived demand passes each `step`, and at the end
  int64_t pods = 0, placed = 0;  // pods that arrived, and those placed
  int64_t gpu_pods = 0, gpu_placed = 0;
  double gpu_demand = 0, gpu_demand_placed = 0;  // in GPUs
  double allocated = 0;                          // at the end, as a share of the GPUs
  // The allocation when the arrived demand first reached the machine's GPUs (1.0).
  double allocated_at_capacity = 0;
};

struct FillOptions {
  double until = 1.5;  // stop once the arrived GPU demand is this many times the GPUs
  double step = 0.05;  // a curve point each time arrived demand grows by this much
};

// Fills `m` with the GPU pods of `w` (pods without GPUs arrive too, and take CPUs and memory)
// under `policy`. Errors: a machine without GPUs, a workload without GPU pods, options out of
// range (until in (0, 100], step in (0, until]).
Result<FillResult> Fill(const Workload& w, const Machine& m, FillPolicy policy,
                        const FillOptions& o = {});

}  // namespace corral::sim
