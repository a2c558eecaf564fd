// Multifactor priority, as Slurm's priority/multifactor computes it: each factor is normalised to
// [0, 1] (in parts per million, kOne), multiplied by its integer weight, and the products are
// summed; nice is subtracted. Pure: a function of the job's inputs, the cluster's totals and now.
// Ties (equal priority) go to the job submitted first (the lower id).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/time.h"

namespace corral::sched {

inline constexpr int64_t kOne = 1000000;  // a factor of 1.0

struct PriorityWeights {
  int64_t age = 1000;     // PriorityWeightAge
  int64_t fairshare = 0;  // PriorityWeightFairshare
  int64_t job_size = 0;   // PriorityWeightJobSize: the share of the cluster's CPUs asked for
  int64_t partition = 0;  // PriorityWeightPartition: the partition's tier over the top tier
  int64_t qos = 0;        // PriorityWeightQOS: the QOS's priority over the top one
  int64_t gpu = 0;        // PriorityWeightTRES=GRES/gpu: the share of the cluster's GPUs
  TimeMs max_age_ms = 7LL * 24 * 3600 * 1000;  // PriorityMaxAge: age factor 1 from here on
};

// What one pending job brings to the computation.
struct PriorityInputs {
  TimeMs eligible_ms = 0;      // since when it could run (submit, release, dependencies met)
  int64_t cpus = 0, gpus = 0;  // asked for, over the whole job
  int64_t fairshare = 0;       // factors already normalised by their owners, 0..kOne
  int64_t partition = 0;
  int64_t qos = 0;
  int64_t nice = 0;  // --nice: subtracted as it is
};

struct ClusterTotals {
  int64_t cpus = 0, gpus = 0;
};

// The factors (0..kOne each) and the result.
struct Priority {
  int64_t age = 0, fairshare = 0, job_size = 0, partition = 0, qos = 0, gpu = 0;
  int64_t nice = 0;
  int64_t value = 0;  // Σ weight × factor / kOne − nice
};

Priority ComputePriority(TimeMs now, const PriorityInputs& in, const ClusterTotals& totals,
                         const PriorityWeights& w);

// Each factor with its weight and what it adds, in a fixed order (age, fairshare, job_size,
// partition, qos, gpu), for `corral queue --explain`.
struct FactorRow {
  std::string name;
  int64_t factor = 0;  // 0..kOne
  int64_t weight = 0;
  int64_t contribution = 0;
};
std::vector<FactorRow> Factors(const Priority& p, const PriorityWeights& w);

}  // namespace corral::sched
