#include "sched/sim/metrics.h"

#include <algorithm>
#include <cmath>

namespace corral::sim {

namespace {

// The q-quantile of sorted `v` (nearest rank); 0 for none.
double Quantile(const std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return static_cast<double>(v[std::clamp<size_t>(rank, 1, v.size()) - 1]);
}

}  // namespace

Machine Machine::Uniform(int32_t nodes, int32_t cpus, int32_t gpus, std::string model,
                         std::string source) {
  Machine m;
  m.groups.push_back(NodeGroup{nodes, cpus, 0, gpus, std::move(model)});
  m.source = std::move(source);
  return m;
}

int64_t Machine::Nodes() const {
  int64_t n = 0;
  for (const NodeGroup& g : groups) n += g.count;
  return n;
}

int64_t Machine::Cpus() const {
  int64_t n = 0;
  for (const NodeGroup& g : groups) n += int64_t{g.count} * g.cpus;
  return n;
}

int64_t Machine::Gpus() const {
  int64_t n = 0;
  for (const NodeGroup& g : groups) n += int64_t{g.count} * g.gpus;
  return n;
}

int32_t Machine::MaxCpusPerNode() const {
  int32_t n = 0;
  for (const NodeGroup& g : groups) n = std::max(n, g.count > 0 ? g.cpus : 0);
  return n;
}

int32_t Machine::MaxGpusPerNode() const {
  int32_t n = 0;
  for (const NodeGroup& g : groups) n = std::max(n, g.count > 0 ? g.gpus : 0);
  return n;
}

std::vector<NodeProfile> Machine::NodeProfiles() const {
  std::vector<NodeProfile> out;
  out.reserve(static_cast<size_t>(Nodes()));
  for (size_t g = 0; g < groups.size(); ++g) {
    const NodeGroup& grp = groups[g];
    for (int32_t i = 0; i < grp.count; ++i) {
      NodeProfile p;
      p.name =
          (groups.size() == 1 ? "n" : "g" + std::to_string(g + 1) + "n") + std::to_string(i + 1);
      p.cpus = grp.cpus;
      p.mem_mib = grp.mem_mib > 0 ? grp.mem_mib : 1024;
      for (int32_t k = 0; k < grp.gpus; ++k)
        p.gpus.push_back(GpuDevice{k, grp.gpu_model, 0, -1, ""});
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::string Machine::Describe() const {
  std::string out = std::to_string(Nodes()) + " nodes";
  size_t shown = 0;
  for (const NodeGroup& g : groups) {
    if (g.count <= 0) continue;
    if (shown == 4) {
      out += ", ...";
      break;
    }
    out += (shown++ ? ", " : ": ") + std::to_string(g.count) + " x " + std::to_string(g.cpus) +
           (g.cpus == 1 ? " CPU" : " CPUs");
    if (g.gpus > 0) {
      out += " " + std::to_string(g.gpus) + (g.gpu_model.empty() ? "" : " " + g.gpu_model) +
             (g.gpus == 1 ? " GPU" : " GPUs");
    }
  }
  return out;
}

void Summarize(const std::vector<JobOutcome>& jobs, const Machine& m, Summary* s) {
  s->jobs = static_cast<int64_t>(jobs.size());
  s->ran = 0;
  s->never_ran.clear();
  std::vector<int64_t> waits;
  waits.reserve(jobs.size());
  double bsld = 0, jct = 0, work = 0, gpu_work = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (const JobOutcome& j : jobs) {
    first = std::min(first, j.submit_s);
    if (j.start_s < 0) {
      s->never_ran[j.never_ran.empty() ? "unknown" : j.never_ran]++;
      continue;
    }
    ++s->ran;
    const int64_t wait = j.start_s - j.submit_s;
    waits.push_back(wait);
    bsld += std::max(1.0, static_cast<double>(wait + j.run_s) /
                              static_cast<double>(std::max<int64_t>(j.run_s, 10)));
    jct += static_cast<double>(j.end_s - j.submit_s);
    work += static_cast<double>(j.run_s) * j.procs;
    gpu_work += static_cast<double>(j.run_s) * (j.gpu_milli > 0 ? j.gpu_milli / 1000.0 : j.gpus);
    last = std::max(last, j.end_s);
  }
  std::sort(waits.begin(), waits.end());
  const double n = static_cast<double>(std::max<int64_t>(s->ran, 1));
  double total_wait = 0;
  for (int64_t w : waits) total_wait += static_cast<double>(w);
  s->mean_wait_s = s->ran ? total_wait / n : 0;
  s->median_wait_s = Quantile(waits, 0.5);
  s->p95_wait_s = Quantile(waits, 0.95);
  s->mean_bounded_slowdown = s->ran ? bsld / n : 0;
  s->mean_jct_s = s->ran ? jct / n : 0;
  s->makespan_s = s->ran ? last - first : 0;
  const double span = static_cast<double>(s->makespan_s);
  const double capacity = span * static_cast<double>(m.Cpus());
  s->utilization = capacity > 0 ? work / capacity : 0;
  const double gpu_capacity = span * static_cast<double>(m.Gpus());
  s->gpu_utilization = m.Gpus() == 0 ? -1 : gpu_capacity > 0 ? gpu_work / gpu_capacity : 0;
}

}  // namespace corral::sim
