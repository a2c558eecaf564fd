// The accounting record of a job that ended (accounting/job_record.h): a method of
// Controller::Impl, on the writer thread.
#include <algorithm>
#include <cstdio>
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
  int64_t gpu_milli = 0;  // GPUs allocated, in thousandths: a share counts as its fraction
  int32_t share = 0;      // the share of one GPU a fractional job holds (1..999), else 0
  for (const auto& a : j.alloc) {
    r.ncpus += a.cpus;
    r.ngpus += static_cast<int32_t>(a.gpu_indices.size());
    bool part = a.gpu_milli > 0 && a.gpu_milli < 1000;
    if (part && !a.gpu_indices.empty()) share = a.gpu_milli;
    gpu_milli += static_cast<int64_t>(a.gpu_indices.size()) * (part ? a.gpu_milli : 1000);
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
  if (share > 0 && !r.gpu_models.empty()) {
    // What a share held, in the request's own spelling (--gpus=t4:0.5).
    char buf[16];
    std::snprintf(buf, sizeof buf, ":%d.%03d", share / 1000, share % 1000);
    std::string tail = buf;
    while (tail.back() == '0') tail.pop_back();
    r.gpu_models += tail;
  }
  r.exit_code = j.exit_code;
  r.submit_ms = j.submit_ms;
  r.start_ms = j.start_ms;
  r.end_ms = j.end_ms;
  TimeMs elapsed = j.start_ms > 0 && j.end_ms > j.start_ms ? j.end_ms - j.start_ms : 0;
  r.cpu_ms = elapsed * r.ncpus;
  r.gpu_ms = elapsed * gpu_milli / 1000;
  r.qos = j.spec.qos.empty() ? "normal" : j.spec.qos;
  r.restarts = j.restarts;
  r.eligible_ms =
      j.submit_ms;  // corrald does not yet keep when a held or dependent job became eligible
  // What its nodes measured: CPU time and energy add up over its nodes; peak memory is the
  // most held on one node, as Slurm's MaxRSS is per task.
  for (const auto& [node, u] : j.usage) {
    r.cpu_used_ms += std::max<int64_t>(u.cpu_ms(), 0);
    r.energy_mj += std::max<int64_t>(u.energy_mj(), 0);
    r.max_rss_bytes = std::max(r.max_rss_bytes, u.max_rss_bytes());
  }
  return r;
}

}  // namespace corral::ctld
