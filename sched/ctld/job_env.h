// The variables every process of a job sees, set by the controller at launch:
// CORRAL_* names and the Slurm names that tools read (SLURM_JOB_ID, SLURM_JOB_NODELIST...).
// Node-specific ones (CUDA_VISIBLE_DEVICES, CORRAL_NODENAME) are added by corral-node.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sched/ctld/job_record.h"

namespace corral::ctld {

std::vector<std::pair<std::string, std::string>> JobEnvironment(const Job& job,
                                                                const std::string& controller);

}  // namespace corral::ctld
