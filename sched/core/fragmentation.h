// Fragmentation-aware placement, after FGD ("Beware of Fragmentation", Weng et al., ATC '23):
// a node's free GPU capacity is fragmented for a kind of job when that job could not use it
// (too little on each GPU, too few CPUs, the wrong model). Weighted by how often each kind of job
// arrives, that is the node's expected fragmentation; a job goes where it grows the least. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/job.h"
#include "sched/core/fit.h"

namespace corral::sched {

// One kind of job that arrives: its request on one node, and how often it comes.
struct JobKind {
  int32_t cpus = 1;
  int32_t gpus = 0;       // whole GPUs, or 1 with a share
  int32_t gpu_milli = 0;  // a share of one GPU (1..999), else 0
  std::string gpu_model;  // "" = any
  double weight = 1;      // relative frequency, > 0
};

// The mix of jobs a placement expects, learnt from what arrives: single-node requests with a
// GPU, by kind (CPUs rounded up to a power of two, shares to a twentieth, memory left out),
// weighted by how many arrived. Only the kMaxKinds most frequent are kept for scoring.
class JobMix {
 public:
  static constexpr size_t kMaxKinds = 12;
  void Add(const JobSpec& s);
  // The most frequent kinds, at most kMaxKinds, most frequent first.
  const std::vector<JobKind>& Top() const;
  bool empty() const { return kinds_.empty(); }

 private:
  std::vector<JobKind> kinds_;
  mutable std::vector<JobKind> top_;
  mutable bool stale_ = true;
};

// The expected fragmentation of `n` under `mix`, in thousandths of a GPU: for each kind, the free
// GPU capacity it could not use, weighted by the kind's share of the mix. With `taking`, as it
// would be once that part of a job (on this node) is taken.
double Fragmentation(const NodeView& n, const JobMix& mix, const NodeAllocation* taking = nullptr);

}  // namespace corral::sched
