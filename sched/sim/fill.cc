#include "sched/sim/fill.h"

#include <algorithm>
#include <optional>

#include "sched/core/fit.h"
#include "sched/core/fragmentation.h"
#include "sched/core/gpu_share.h"

namespace corral::sim {

const char* FillPolicyName(FillPolicy p) {
  switch (p) {
    case FillPolicy::kCorral:
      return "corral";
    case FillPolicy::kPlain:
      return "corral-plain";
    case FillPolicy::kFirstFit:
      return "first-fit";
    case FillPolicy::kBestFit:
      return "best-fit";
    case FillPolicy::kWholeGpus:
      return "whole-gpus";
  }
  return "corral";
}

bool ParseFillPolicy(const std::string& s, FillPolicy* out) {
  for (FillPolicy p :
       {FillPolicy::kCorral, FillPolicy::kFirstFit, FillPolicy::kBestFit, FillPolicy::kWholeGpus}) {
    if (s == FillPolicyName(p)) return *out = p, true;
  }
  return false;
}

namespace {

using sched::kWholeGpu;
using sched::NodeView;

JobSpec PodSpec(const SimJob& j) {
  JobSpec s;
  s.nodes = 1;
  s.ntasks = std::max(j.procs, 1);
  s.mem_mib = std::max<int64_t>(j.mem_mib, 0);
  s.gpus = std::max(j.gpus, 0);
  s.gpu_model = j.gpu_model;
  if (s.gpus == 1 && j.gpu_milli > 0 && j.gpu_milli < kWholeGpu) s.gpu_milli = j.gpu_milli;
  return s;
}

// The GPUs of a pod in thousandths.
int64_t Demand(const JobSpec& s) {
  return s.gpu_milli > 0 ? s.gpu_milli : int64_t{s.gpus} * kWholeGpu;
}

// The baselines' pick on one node: its first GPUs with room, or nullopt when the pod does not fit.
std::optional<NodeAllocation> FirstGpus(const NodeView& n, const JobSpec& s) {
  if (!n.up || n.free_cpus < s.ntasks || n.free_mem_mib < s.mem_mib) return std::nullopt;
  NodeAllocation a;
  a.node = n.profile.name;
  a.cpus = s.ntasks;
  a.mem_mib = s.mem_mib;
  a.gpu_milli = s.gpu_milli;
  const int32_t take = s.gpu_milli > 0 ? s.gpu_milli : kWholeGpu;
  for (size_t i = 0; i < n.profile.gpus.size() && a.gpu_indices.size() < size_t(s.gpus); ++i) {
    if (!GpuModelMatches(s.gpu_model, n.profile.gpus[i].model)) continue;
    if (sched::GpuUsedMilli(n, i) + take <= kWholeGpu) a.gpu_indices.push_back(int32_t(i));
  }
  if (a.gpu_indices.size() < size_t(s.gpus)) return std::nullopt;
  return a;
}

int64_t FreeGpuMilli(const NodeView& n) {
  int64_t free = 0;
  for (size_t i = 0; i < n.profile.gpus.size(); ++i) free += kWholeGpu - sched::GpuUsedMilli(n, i);
  return free;
}

std::optional<Allocation> Choose(FillPolicy p, JobSpec s, const std::vector<NodeView>& nodes,
                                 const sched::JobMix& mix) {
  if (p == FillPolicy::kWholeGpus) s.gpu_milli = 0;
  if (p == FillPolicy::kCorral || p == FillPolicy::kPlain || p == FillPolicy::kWholeGpus) {
    sched::Placement pl = sched::Place(s, nodes, p == FillPolicy::kCorral ? &mix : nullptr);
    if (pl.kind != sched::Placement::Kind::kPlaced) return std::nullopt;
    return std::move(pl.alloc);
  }
  std::optional<NodeAllocation> best;
  std::pair<int64_t, int32_t> best_left;
  for (const NodeView& n : nodes) {
    std::optional<NodeAllocation> a = FirstGpus(n, s);
    if (!a) continue;
    if (p == FillPolicy::kFirstFit) return Allocation{std::move(*a)};
    const std::pair<int64_t, int32_t> left{FreeGpuMilli(n) - Demand(s), n.free_cpus - s.ntasks};
    if (!best || left < best_left) best = std::move(a), best_left = left;
  }
  if (!best) return std::nullopt;
  return Allocation{std::move(*best)};
}

}  // namespace

Result<FillResult> Fill(const Workload& w, const Machine& m, FillPolicy policy,
                        const FillOptions& o) {
  if (!(o.until > 0 && o.until <= 100)) return Status::Invalid("until: must be in (0, 100]");
  if (!(o.step > 0 && o.step <= o.until)) return Status::Invalid("step: must be in (0, until]");
  const int64_t capacity = m.Gpus() * kWholeGpu;
  if (capacity <= 0) return Status::Invalid("the machine has no GPUs");
  std::vector<JobSpec> pods;
  bool any_gpu = false;
  for (const SimJob& j : w.jobs) {
    pods.push_back(PodSpec(j));
    any_gpu = any_gpu || pods.back().gpus > 0;
  }
  if (!any_gpu) return Status::Invalid("the workload has no GPU pods");

  std::vector<NodeView> nodes;
  for (const NodeProfile& p : m.NodeProfiles()) nodes.push_back(NodeView::Idle(p));
  const sched::NodeIndex index = sched::IndexNodes(nodes);
  FillResult r;
  sched::JobMix mix;  // of the pods arrived so far, as a scheduler would learn it
  int64_t arrived = 0, allocated = 0;
  double next_point = o.step;
  bool at_capacity = false;
  auto share = [&](int64_t milli) { return static_cast<double>(milli) / capacity; };
  for (size_t k = 0; share(arrived) < o.until; k = (k + 1) % pods.size()) {
    const JobSpec& s = pods[k];
    const int64_t demand = Demand(s);
    ++r.pods;
    r.gpu_pods += s.gpus > 0;
    arrived += demand;
    mix.Add(s);
    if (std::optional<Allocation> a = Choose(policy, s, nodes, mix)) {
      sched::TakeAt(*a, index, &nodes);
      ++r.placed;
      r.gpu_placed += s.gpus > 0;
      allocated += demand;
    }
    if (!at_capacity && arrived >= capacity) {
      at_capacity = true;
      r.allocated_at_capacity = share(allocated);
    }
    if (share(arrived) >= next_point) {
      r.curve.push_back({share(arrived), share(allocated)});
      while (next_point <= share(arrived)) next_point += o.step;
    }
  }
  r.gpu_demand = static_cast<double>(arrived) / kWholeGpu;
  r.gpu_demand_placed = static_cast<double>(allocated) / kWholeGpu;
  r.allocated = share(allocated);
  if (r.curve.empty() || r.curve.back().arrived < share(arrived)) {
    r.curve.push_back({share(arrived), r.allocated});
  }
  return r;
}

}  // namespace corral::sim
