#include "sched/core/terms.h"

#include <algorithm>

#include "common/price.h"
#include "common/time.h"

namespace corral::sched {

int64_t RateOf(const GpuCatalog& c, const std::string& model) {
  auto it = c.find(model);
  return it == c.end() ? 0 : it->second.micro_per_hour;
}

std::string RefusedBy(const JobSpec& spec, const NodeProfile& n, const GpuCatalog& c) {
  const ProviderTerms& t = n.terms;
  if (!t.accounts.empty() &&
      std::find(t.accounts.begin(), t.accounts.end(), spec.account) == t.accounts.end()) {
    return "node " + n.name + " serves only accounts of its own (not " +
           (spec.account.empty() ? std::string("none") : "'" + spec.account + "'") + ")";
  }
  if (t.max_time_ms > 0 && (spec.time_limit_ms <= 0 || spec.time_limit_ms > t.max_time_ms)) {
    return "node " + n.name + " takes jobs of at most " + FormatDuration(t.max_time_ms) +
           (spec.time_limit_ms <= 0 ? " (give -t)" : "");
  }
  if (spec.TotalGpus() == 0) return "";
  for (const GpuDevice& g : n.gpus) {
    if (!GpuModelMatches(spec.gpu_model, g.model)) continue;
    const int64_t rate = RateOf(c, g.model);
    if (spec.max_price_micro > 0 && rate > spec.max_price_micro) {
      return g.model + " costs " + FormatPrice(rate) +
             "/GPU-hour, over --max-price=" + FormatPrice(spec.max_price_micro);
    }
    if (rate < t.min_price_micro) {
      return "node " + n.name + " asks at least " + FormatPrice(t.min_price_micro) + "/GPU-hour; " +
             g.model + " is at " + FormatPrice(rate);
    }
  }
  return "";
}

}  // namespace corral::sched
