#include "sched/ctld/job_env.h"

#include "common/hostlist.h"

namespace corral::ctld {

std::vector<std::pair<std::string, std::string>> JobEnvironment(const Job& job,
                                                                const std::string& controller) {
  const JobSpec& s = job.spec;
  std::string id = std::to_string(job.id);
  std::string nodelist = job.Nodelist();
  std::string nnodes = std::to_string(job.alloc.size());
  std::string ntasks = std::to_string(s.ntasks);
  std::string cpt = std::to_string(s.cpus_per_task);
  std::string tpn = std::to_string((s.ntasks + s.nodes - 1) / std::max(s.nodes, 1));
  std::string part = s.partition.empty() ? "default" : s.partition;
  std::vector<std::pair<std::string, std::string>> env = {
      {"CORRAL_CONTROLLER", controller},
      {"CORRAL_JOB_ID", id},
      {"CORRAL_JOB_NAME", s.name},
      {"CORRAL_JOB_NODELIST", nodelist},
      {"CORRAL_JOB_NUM_NODES", nnodes},
      {"CORRAL_NTASKS", ntasks},
      {"CORRAL_NTASKS_PER_NODE", tpn},
      {"CORRAL_CPUS_PER_TASK", cpt},
      {"CORRAL_SUBMIT_DIR", s.submit_dir},
      {"CORRAL_JOB_PARTITION", part},
      {"SLURM_JOB_ID", id},
      {"SLURM_JOBID", id},
      {"SLURM_JOB_NAME", s.name},
      {"SLURM_JOB_NODELIST", nodelist},
      {"SLURM_NODELIST", nodelist},
      {"SLURM_JOB_NUM_NODES", nnodes},
      {"SLURM_NNODES", nnodes},
      {"SLURM_NTASKS", ntasks},
      {"SLURM_NPROCS", ntasks},
      {"SLURM_NTASKS_PER_NODE", tpn},
      {"SLURM_CPUS_PER_TASK", cpt},
      {"SLURM_SUBMIT_DIR", s.submit_dir},
      {"SLURM_JOB_PARTITION", part},
      {"SLURM_JOB_USER", s.user},
      {"SLURM_JOB_ACCOUNT", s.account},
  };
  if (!s.het.empty()) {
    std::string size = std::to_string(s.NumComponents());
    env.insert(env.end(), {{"CORRAL_HET_SIZE", size}, {"SLURM_HET_SIZE", size}});
    for (size_t i = 0; i < s.NumComponents(); ++i) {
      std::vector<std::string> names;
      for (const auto& a : job.alloc) {
        if (a.component == static_cast<int32_t>(i)) names.push_back(a.node);
      }
      std::string list = CompressHostlist(names), g = std::to_string(i);
      std::string n = std::to_string(s.Component(i).ntasks);
      std::string hosts;  // expanded, for mpirun --host
      for (const auto& h : names) hosts += (hosts.empty() ? "" : ",") + h;
      env.insert(env.end(), {{"CORRAL_HET_HOSTS_" + g, hosts},
                             {"CORRAL_HET_NODELIST_" + g, list},
                             {"CORRAL_HET_NTASKS_" + g, n},
                             {"SLURM_JOB_NODELIST_HET_GROUP_" + g, list},
                             {"SLURM_NTASKS_HET_GROUP_" + g, n}});
    }
  }
  if (s.array_job_id > 0) {
    std::string a = std::to_string(s.array_job_id), t = std::to_string(s.array_task_id);
    env.insert(env.end(), {{"CORRAL_ARRAY_JOB_ID", a},
                           {"CORRAL_ARRAY_TASK_ID", t},
                           {"SLURM_ARRAY_JOB_ID", a},
                           {"SLURM_ARRAY_TASK_ID", t}});
  }
  return env;
}

}  // namespace corral::ctld
