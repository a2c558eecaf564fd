// QOS limits, a phase of the scheduling pass (schedule.h): in priority order, a job is admitted
// to backfill only if its QOS leaves room for it, counting the jobs running now and those
// admitted before it in this pass, so that no limit is ever exceeded even if every admitted
// job starts. A job held back waits with Slurm's reason name. Pure.
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

// The QOS every job without --qos has.
inline constexpr const char* kDefaultQos = "normal";
// The QOS name a spec uses.
const std::string& QosOf(const JobSpec& spec);
// GPUs a spec asks for over all its components.
int64_t GpusOf(const JobSpec& spec);

class LimitTracker {
 public:
  explicit LimitTracker(const std::map<std::string, Qos>& qos) : qos_(qos) {}
  // Counts a running job against its QOS.
  void AddRunning(const JobSpec& spec);
  // "" and counts the job if its QOS leaves room for it; else the reason it waits
  // (QOSMaxJobsPerUserLimit, QOSMaxGRESPerUser, QOSMaxJobsPerAccount, QOSMaxGRESPerAccount,
  // QOSMaxWallDurationPerJobLimit, or InvalidQOS for a QOS that no longer exists).
  std::string Admit(const JobSpec& spec);

 private:
  struct Use {
    int64_t jobs = 0, gpus = 0;
  };
  const std::map<std::string, Qos>& qos_;
  std::map<std::pair<std::string, std::string>, Use> by_user_, by_account_;  // (qos, who)
};

}  // namespace corral::sched
