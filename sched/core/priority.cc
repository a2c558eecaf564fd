#include "sched/core/priority.h"

#include <algorithm>

namespace corral::sched {

namespace {

// num / den as a factor, clamped to [0, kOne]; 0 when den <= 0.
int64_t Ratio(int64_t num, int64_t den) {
  if (den <= 0 || num <= 0) return 0;
  if (num >= den) return kOne;
  // num < den here, so num * kOne fits when den < 2^43 (8.8e12): true of any CPU or ms count
  // met in practice; above that the division goes first, at a small loss of precision.
  if (den < (int64_t{1} << 43)) return num * kOne / den;
  return num / (den / kOne);
}

int64_t Clamp(int64_t f) {
  return std::clamp<int64_t>(f, 0, kOne);
}

// weight × factor / kOne without overflow for weights up to 2^31 (Slurm's limit is 2^32).
int64_t Weighted(int64_t weight, int64_t factor) {
  return weight / kOne * factor + (weight % kOne) * factor / kOne;
}

}  // namespace

Priority ComputePriority(TimeMs now, const PriorityInputs& in, const ClusterTotals& totals,
                         const PriorityWeights& w) {
  Priority p;
  p.age = Ratio(std::max<TimeMs>(now - in.eligible_ms, 0), w.max_age_ms);
  p.fairshare = Clamp(in.fairshare);
  p.job_size = Ratio(in.cpus, totals.cpus);
  p.partition = Clamp(in.partition);
  p.qos = Clamp(in.qos);
  p.gpu = Ratio(in.gpus, totals.gpus);
  p.nice = in.nice;
  p.value = Weighted(w.age, p.age) + Weighted(w.fairshare, p.fairshare) +
            Weighted(w.job_size, p.job_size) + Weighted(w.partition, p.partition) +
            Weighted(w.qos, p.qos) + Weighted(w.gpu, p.gpu) - p.nice;
  return p;
}

std::vector<FactorRow> Factors(const Priority& p, const PriorityWeights& w) {
  return {{"age", p.age, w.age, Weighted(w.age, p.age)},
          {"fairshare", p.fairshare, w.fairshare, Weighted(w.fairshare, p.fairshare)},
          {"job_size", p.job_size, w.job_size, Weighted(w.job_size, p.job_size)},
          {"partition", p.partition, w.partition, Weighted(w.partition, p.partition)},
          {"qos", p.qos, w.qos, Weighted(w.qos, p.qos)},
          {"gpu", p.gpu, w.gpu, Weighted(w.gpu, p.gpu)}};
}

}  // namespace corral::sched
