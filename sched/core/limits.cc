#include "sched/core/limits.h"

namespace corral::sched {

const std::string& QosOf(const JobSpec& spec) {
  static const std::string kDefault = kDefaultQos;
  return spec.qos.empty() ? kDefault : spec.qos;
}

int64_t GpusOf(const JobSpec& spec) {
  return spec.TotalGpus();
}

std::vector<std::pair<const AccountLimits*, LimitTracker::Use*>> LimitTracker::Chain(
    const std::string& account) {
  std::vector<std::pair<const AccountLimits*, Use*>> out;
  std::string at = account;
  for (size_t depth = 0; !at.empty() && depth <= accounts_.size(); ++depth) {
    auto it = accounts_.find(at);
    if (it == accounts_.end()) break;
    if (it->second.Limits()) out.emplace_back(&it->second, &by_assoc_[at]);
    at = it->second.parent;
  }
  return out;
}

void LimitTracker::AddRunning(const JobSpec& spec) {
  const int64_t gpus = GpusOf(spec), cpus = spec.TotalCpus();
  for (auto& [limits, use] : Chain(spec.account)) {
    use->jobs++;
    use->cpus += cpus;
    use->gpus += gpus;
  }
  const std::string& q = QosOf(spec);
  auto it = qos_.find(q);
  if (it == qos_.end() || !it->second.Limits()) return;  // nothing to count against
  Use& u = by_user_[{q, spec.user}];
  u.jobs++;
  u.gpus += gpus;
  Use& a = by_account_[{q, spec.account}];
  a.jobs++;
  a.gpus += gpus;
}

std::string LimitTracker::Admit(const JobSpec& spec) {
  const int64_t gpus = GpusOf(spec), cpus = spec.TotalCpus();
  Use* u = nullptr;
  Use* a = nullptr;
  if (!qos_.empty()) {
    const std::string& name = QosOf(spec);
    auto it = qos_.find(name);
    if (it == qos_.end()) return "InvalidQOS";
    const Qos& q = it->second;
    if (q.Limits()) {
      if (q.max_wall_ms >= 0 && (spec.time_limit_ms <= 0 || spec.time_limit_ms > q.max_wall_ms)) {
        return "QOSMaxWallDurationPerJobLimit";
      }
      u = &by_user_[{name, spec.user}];
      a = &by_account_[{name, spec.account}];
      if (q.max_jobs_per_user >= 0 && u->jobs + 1 > q.max_jobs_per_user) {
        return "QOSMaxJobsPerUserLimit";
      }
      if (q.max_gpus_per_user >= 0 && gpus > 0 && u->gpus + gpus > q.max_gpus_per_user) {
        return "QOSMaxGRESPerUser";
      }
      if (q.max_jobs_per_account >= 0 && a->jobs + 1 > q.max_jobs_per_account) {
        return "QOSMaxJobsPerAccount";
      }
      if (q.max_gpus_per_account >= 0 && gpus > 0 && a->gpus + gpus > q.max_gpus_per_account) {
        return "QOSMaxGRESPerAccount";
      }
    }
  }
  auto chain = accounts_.empty() ? decltype(Chain(""))() : Chain(spec.account);
  for (const auto& [l, use] : chain) {
    if (l->grp_jobs >= 0 && use->jobs + 1 > l->grp_jobs) return "AssocGrpJobsLimit";
    if (l->grp_cpus >= 0 && use->cpus + cpus > l->grp_cpus) return "AssocGrpCpuLimit";
    if (l->grp_gpus >= 0 && gpus > 0 && use->gpus + gpus > l->grp_gpus) return "AssocGrpGRES";
  }
  for (Use* x : {u, a}) {
    if (x) x->jobs++, x->gpus += gpus;
  }
  for (auto& [l, use] : chain) {
    use->jobs++;
    use->cpus += cpus;
    use->gpus += gpus;
  }
  return "";
}

}  // namespace corral::sched
