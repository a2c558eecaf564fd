#include "sched/sim/hetero.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "sched/sim/replay.h"

namespace corral::sim {

const std::string& JobTypeOf(int64_t id, const GavelTable& t) {
  const uint64_t h = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull;
  return t.jobs[(h >> 32) % t.jobs.size()];
}

Result<HeteroResult> CompareHeterogeneity(const Workload& w, const GavelTable& t,
                                          const HeteroOptions& o) {
  if (o.nodes_per_model < 1 || o.nodes_per_model > 1000 || o.gpus_per_node < 1 ||
      o.gpus_per_node > 64 || o.cpus_per_node < o.gpus_per_node || o.cpus_per_node > 4096 ||
      o.jobs < 1) {
    return Status::Invalid(
        "hetero: nodes per model 1..1000, GPUs per node 1..64, CPUs per node from the GPUs to "
        "4096, jobs >= 1");
  }
  if (t.models.empty() || t.jobs.empty()) return Status::Invalid("hetero: an empty table");
  HeteroResult r;
  r.models = t.models;
  // Nodes of the models interleaved, so that no model comes first by the nodes' order.
  for (int32_t i = 0; i < o.nodes_per_model; ++i) {
    for (const std::string& m : t.models) {
      r.machine.groups.push_back(NodeGroup{1, o.cpus_per_node, 0, o.gpus_per_node, m});
    }
  }
  r.machine.source = "interleaved nodes of " + std::to_string(t.models.size()) + " GPU models";
  std::unordered_map<std::string, size_t> model_of_node;
  {
    const std::vector<NodeProfile> nodes = r.machine.NodeProfiles();
    for (const NodeProfile& p : nodes) {
      const auto at = std::find(t.models.begin(), t.models.end(), p.gpus.front().model);
      model_of_node[p.name] = static_cast<size_t>(at - t.models.begin());
    }
  }
  // The first jobs by submit time that one node holds, their types, and their speeds.
  std::vector<const SimJob*> picked;
  for (const SimJob& j : w.jobs) {
    if (j.gpus >= 1 && j.gpus <= o.gpus_per_node && j.run_s > 0) picked.push_back(&j);
  }
  std::stable_sort(picked.begin(), picked.end(),
                   [](const SimJob* a, const SimJob* b) { return a->submit_s < b->submit_s; });
  if (picked.size() > o.jobs) picked.resize(o.jobs);
  if (picked.empty()) return Status::Invalid("hetero: no job of 1 to gpus_per_node GPUs");
  r.jobs = static_cast<int64_t>(picked.size());
  Workload sample;
  sample.format = w.format;
  // slowdown[k][m]: how much longer job k runs on model m than on its fastest.
  std::vector<std::vector<double>> slowdown;
  std::vector<sched::GpuSpeeds> speeds;  // per job: its type's throughput per model
  std::vector<std::string> fastest_first;
  const int64_t first_submit = picked.front()->submit_s;
  for (const SimJob* j : picked) {
    const std::string& type = JobTypeOf(j->id, t);
    std::vector<std::string> order = t.Fastest(type);
    const double best = t.Of(order.front(), type);
    std::vector<double> s(t.models.size(), 0);
    double worst = 1;
    for (size_t m = 0; m < t.models.size(); ++m) {
      const double thr = t.Of(t.models[m], type);
      s[m] = thr > 0 ? best / thr : 0;  // 0: the model cannot run it
      worst = std::max(worst, s[m]);
    }
    SimJob x = *j;
    x.submit_s -= first_submit;
    x.nodes = 1;
    x.procs = x.gpus;
    x.req_time_s = static_cast<int64_t>(std::ceil(static_cast<double>(x.run_s) * worst));
    std::string alternatives;
    for (const std::string& m : order) alternatives += (alternatives.empty() ? "" : "|") + m;
    x.gpu_model = alternatives;  // models that cannot run it are left out
    sample.jobs.push_back(std::move(x));
    slowdown.push_back(std::move(s));
    sched::GpuSpeeds sp;
    for (const std::string& m : t.models) sp[m] = t.Of(m, type);
    speeds.push_back(std::move(sp));
  }
  for (int mode : {0, 1, 2}) {
    const bool aware = mode == 1;
    Workload run = sample;
    for (SimJob& j : run.jobs) {
      j.gpu_models_in_order = aware;
      if (mode == 2) j.gpu_choice = GpuChoice::kFastest;
    }
    HeteroRun& out = mode == 0 ? r.agnostic : aware ? r.aware : r.fastest;
    out.jobs_on.assign(t.models.size(), 0);
    ReplayOptions ro;
    ro.mode = o.mode;
    ro.check = true;
    if (mode == 2) {
      ro.speeds_of = [&](size_t k) { return k < speeds.size() ? &speeds[k] : nullptr; };
    }
    // Jobs replay in submit order, which is the sample's: job k is sample.jobs[k].
    ro.run_on = [&](size_t k, const Allocation& where, int64_t run_s) -> int64_t {
      if (k >= slowdown.size() || where.empty()) return run_s;
      auto it = model_of_node.find(where.front().node);
      if (it == model_of_node.end()) return run_s;
      ++out.jobs_on[it->second];
      return static_cast<int64_t>(
          std::ceil(static_cast<double>(run_s) * std::max(slowdown[k][it->second], 1.0)));
    };
    Result<ReplayResult> rr = Replay(run, r.machine, ro);
    if (!rr.ok()) return rr.status();
    if (rr->summary.violations > 0) {
      return Status::Internal("hetero: the replay broke an invariant: " +
                              (rr->summary.violation_examples.empty()
                                   ? std::string("?")
                                   : rr->summary.violation_examples.front()));
    }
    out.summary = rr->summary;
  }
  return r;
}

}  // namespace corral::sim
