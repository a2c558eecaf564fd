// QOS and account limits, a phase of the scheduling pass (schedule.h): in priority order, a job
// is admitted to backfill only if its QOS and every account above it leave room for it, counting
// the jobs running now and those admitted before it in this pass, so that no limit is ever exceeded
// even if every admitted job starts. A job held back waits with Slurm's reason name. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/job.h"
#include "sched/core/preempt_mode.h"

namespace corral::sched {

// A quality of service, as an admin defines it. A limit below 0 means none.
struct Qos {
  std::string name;
  int64_t priority = 0;               // its priority factor is priority / the highest QOS priority
  int32_t max_jobs_per_user = -1;     // running at once (MaxJobsPerUser)
  int32_t max_gpus_per_user = -1;     // GPUs held at once (MaxTRESPerUser=gres/gpu)
  int32_t max_jobs_per_account = -1;  // MaxJobsPerAccount
  int32_t max_gpus_per_account = -1;  // MaxTRESPerAccount=gres/gpu
  TimeMs max_wall_ms = -1;            // MaxWallDurationPerJob; a job without -t exceeds it
  // Preemption (preempt.h): the QOSes whose jobs this one's may preempt (Preempt=), and how
  // this one's jobs are preempted themselves (PreemptMode=, GraceTime=).
  std::vector<std::string> preempt;
  PreemptMode preempt_mode = PreemptMode::kCancel;
  TimeMs grace_ms = 0;

  bool Limits() const {
    return max_jobs_per_user >= 0 || max_gpus_per_user >= 0 || max_jobs_per_account >= 0 ||
           max_gpus_per_account >= 0 || max_wall_ms >= 0;
  }
};

// An account's group limits (Slurm's association GrpJobs, GrpTRES=cpu and GrpTRES=gres/gpu):
// what the jobs running under it and under all its sub-accounts may hold together. -1: none.
struct AccountLimits {
  std::string parent;  // "" = directly under the root
  int32_t grp_jobs = -1;
  int64_t grp_cpus = -1;
  int64_t grp_gpus = -1;

  bool Limits() const { return grp_jobs >= 0 || grp_cpus >= 0 || grp_gpus >= 0; }
};

// The QOS every job without --qos has.
inline constexpr const char* kDefaultQos = "normal";
// The QOS name a spec uses.
const std::string& QosOf(const JobSpec& spec);
// GPUs a spec asks for over all its components.
int64_t GpusOf(const JobSpec& spec);

class LimitTracker {
 public:
  // With no QOS defined, QOSes are not looked at; with no account, accounts are not.
  LimitTracker(const std::map<std::string, Qos>& qos,
               const std::map<std::string, AccountLimits>& accounts)
      : qos_(qos), accounts_(accounts) {}
  // Counts a running job against its QOS and its accounts.
  void AddRunning(const JobSpec& spec);
  // "" and counts the job if its QOS and its accounts leave room for it; else the reason it
  // waits: the QOS's first (QOSMaxJobsPerUserLimit, QOSMaxGRESPerUser, QOSMaxJobsPerAccount,
  // QOSMaxGRESPerAccount, QOSMaxWallDurationPerJobLimit, or InvalidQOS for a QOS that no longer
  // exists), then the accounts' from its own up (AssocGrpJobsLimit, AssocGrpCpuLimit,
  // AssocGrpGRES).
  std::string Admit(const JobSpec& spec);

 private:
  struct Use {
    int64_t jobs = 0, cpus = 0, gpus = 0;
  };
  // The accounts from the job's own up to the root that have limits (a cycle ends the walk).
  std::vector<std::pair<const AccountLimits*, Use*>> Chain(const std::string& account);
  const std::map<std::string, Qos>& qos_;
  const std::map<std::string, AccountLimits>& accounts_;
  std::map<std::pair<std::string, std::string>, Use> by_user_, by_account_;  // (qos, who)
  std::map<std::string, Use> by_assoc_;                                      // account
};

}  // namespace corral::sched
