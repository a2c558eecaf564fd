// The terms of a placement, both sides in one filter: the job's price cap (--max-price) and the
// provider's terms for its node (ProviderTerms: a minimum price, the accounts it serves, the
// longest job it takes). The rates come from the GPU catalog: one per GPU model, per GPU-hour,
// set by the admin (corrald --gpu-price), with the speed measured for it. Pure.
#pragma once

#include <map>
#include <string>

#include "common/job.h"
#include "common/node.h"

namespace corral::sched {

// What the scheduler knows of a GPU model.
struct GpuRate {
  // Relative throughput (the TFLOP/s its nodes measured, or a table's figure); <= 0: unknown.
  double speed = 0;
  int64_t micro_per_hour = 0;  // its rate per GPU-hour in micro-units of credit; 0: free
};
using GpuCatalog = std::map<std::string, GpuRate>;  // by model, lower case

// The rate of `model` in the catalog (0 when it is not there).
int64_t RateOf(const GpuCatalog& c, const std::string& model);

// Why node `n` does not take `spec`, or "" when it does. A job with GPUs is charged the rate of
// the node's GPUs of the models it may take (spec.gpu_model: "" any, "a|b" either): each such
// rate must be within its --max-price and at least the node's minimum price. A job without
// GPUs pays no GPU rate, so only the accounts and the time limit are checked; a job with no
// time limit is refused by a node that takes jobs of a bounded length.
std::string RefusedBy(const JobSpec& spec, const NodeProfile& n, const GpuCatalog& c);

// Whether RefusedBy can refuse anything for this job on these terms: cheap to ask per job.
inline bool TermsApply(const JobSpec& spec, bool any_node_terms) {
  return any_node_terms || spec.max_price_micro > 0;
}

}  // namespace corral::sched
