// The accounting record of a job that ended (accounting/job_record.h): a method of
// Controller::Impl, on the writer thread.
#include <set>

#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

JobRecord Controller::Impl::AcctRow(const Job& j) const {
  JobRecord r;
  r.job_id = j.id;
  r.name = j.spec.name;
  r.user = j.spec.user;
  r.account = j.spec.account;
  r.partition = j.spec.partition;
  r.nodelist = j.Nodelist();
  r.state = JobStateName(j.state);
  r.nnodes = static_cast<int32_t>(j.alloc.size());
  std::set<std::string> models;
  bool known = true;
  for (const auto& a : j.alloc) {
    r.ncpus += a.cpus;
    r.ngpus += static_cast<int32_t>(a.gpu_indices.size());
    auto n = nodes.find(a.node);
    for (int32_t g : a.gpu_indices) {
      if (n != nodes.end() && g >= 0 && static_cast<size_t>(g) < n->second.profile.gpus.size()) {
        models.insert(n->second.profile.gpus[g].model);
      } else {
        known = false;
      }
    }
  }
  for (const std::string& m : models) r.gpu_models += (r.gpu_models.empty() ? "" : "|") + m;
  if (r.ngpus > 0 && (!known || models.empty())) {
    r.gpu_models = j.spec.gpu_model.empty() ? "any" : j.spec.gpu_model;
  }
  r.exit_code = j.exit_code;
  r.submit_ms = j.submit_ms;
  r.start_ms = j.start_ms;
  r.end_ms = j.end_ms;
  TimeMs elapsed = j.start_ms > 0 && j.end_ms > j.start_ms ? j.end_ms - j.start_ms : 0;
  r.cpu_ms = elapsed * r.ncpus;
  r.gpu_ms = elapsed * r.ngpus;
  return r;
}

}  // namespace corral::ctld
