#include "sched/core/limits.h"

namespace corral::sched {

const std::string& QosOf(const JobSpec& spec) {
  static const std::string kDefault = kDefaultQos;
  return spec.qos.empty() ? kDefault : spec.qos;
}

int64_t GpusOf(const JobSpec& spec) {
  return spec.TotalGpus();
}

void LimitTracker::AddRunning(const JobSpec& spec) {
  const std::string& q = QosOf(spec);
  auto it = qos_.find(q);
  if (it == qos_.end() || !it->second.Limits()) return;  // nothing to count against
  int64_t gpus = GpusOf(spec);
  Use& u = by_user_[{q, spec.user}];
  u.jobs++;
  u.gpus += gpus;
  Use& a = by_account_[{q, spec.account}];
  a.jobs++;
  a.gpus += gpus;
}

std::string LimitTracker::Admit(const JobSpec& spec) {
  const std::string& name = QosOf(spec);
  auto it = qos_.find(name);
  if (it == qos_.end()) return "InvalidQOS";
  const Qos& q = it->second;
  if (!q.Limits()) return "";
  if (q.max_wall_ms >= 0 && (spec.time_limit_ms <= 0 || spec.time_limit_ms > q.max_wall_ms)) {
    return "QOSMaxWallDurationPerJobLimit";
  }
  int64_t gpus = GpusOf(spec);
  Use& u = by_user_[{name, spec.user}];
  Use& a = by_account_[{name, spec.account}];
  if (q.max_jobs_per_user >= 0 && u.jobs + 1 > q.max_jobs_per_user) {
    return "QOSMaxJobsPerUserLimit";
  }
  if (q.max_gpus_per_user >= 0 && gpus > 0 && u.gpus + gpus > q.max_gpus_per_user) {
    return "QOSMaxGRESPerUser";
  }
  if (q.max_jobs_per_account >= 0 && a.jobs + 1 > q.max_jobs_per_account) {
    return "QOSMaxJobsPerAccount";
  }
  if (q.max_gpus_per_account >= 0 && gpus > 0 && a.gpus + gpus > q.max_gpus_per_account) {
    return "QOSMaxGRESPerAccount";
  }
  u.jobs++;
  u.gpus += gpus;
  a.jobs++;
  a.gpus += gpus;
  return "";
}

}  // namespace corral::sched
