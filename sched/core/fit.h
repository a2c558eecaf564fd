// Resource fit: can a job ever run on the cluster, and where could it run now.
// Pure functions (DESIGN.md rule 1): no I/O, no clock.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "common/job.h"
#include "common/node.h"
#include "common/status.h"

namespace corral::sched {

class JobMix;  // fragmentation.h

// A node as the scheduler sees it at one instant: what it has and what is free.
struct NodeView {
  NodeProfile profile;
  bool up = true;
  int32_t free_cpus = 0;
  int64_t free_mem_mib = 0;
  std::vector<bool> gpu_free;  // one per profile.gpus entry: wholly free
  // Thousandths of each GPU taken (gpu_share.h), kept once a share of one is taken on the node;
  // empty until then. When kept: 0 = free (gpu_free), 1000 = held whole.
  std::vector<int32_t> gpu_milli_used;

  // A view of an idle, up node.
  static NodeView Idle(const NodeProfile& p);
};

// Whether `spec` could run on the given nodes if they were all idle and up.
// Returns Invalid with a message naming the option and the limit, e.g.
// "--gpus=h100:16: the largest node has 8 h100". Also rejects malformed specs (zero nodes...).
// Each component of a heterogeneous job must fit on its own ("hetjob component 1: ...").
Status CheckFeasible(const JobSpec& spec, const std::vector<NodeProfile>& nodes);

// The result of trying to place a job on free resources now.
struct Placement {
  enum class Kind { kPlaced, kNotNow, kInfeasible };
  Kind kind = Kind::kNotNow;
  Allocation alloc;    // when placed: one entry per node
  std::string reason;  // when not placed: why, for `corral queue`

  static Placement Placed(Allocation a) { return {Kind::kPlaced, std::move(a), ""}; }
  static Placement NotNow(std::string r) { return {Kind::kNotNow, {}, std::move(r)}; }
  static Placement Infeasible(std::string r) { return {Kind::kInfeasible, {}, std::move(r)}; }
};

// Chooses `spec.nodes` distinct up nodes with enough free CPUs, memory and GPUs of the model.
// Prefers nodes that leave the least unused (best fit) and, for jobs without GPUs, nodes
// without GPUs, so GPU nodes stay free for GPU jobs. GPUs are taken on one NUMA node where
// possible. A share of a GPU (spec.gpu_milli) goes where ShareWaste is least: on a GPU already
// shared before a whole one is broken. With a `mix` of the jobs expected (fragmentation.h), a
// one-node job goes where it grows the nodes' expected GPU fragmentation least (FGD; a CPU job
// too, as it takes CPUs that GPU jobs need), ties to the node listed first. Does not modify
// `nodes`.
Placement Place(const JobSpec& spec, const std::vector<NodeView>& nodes,
                const JobMix* mix = nullptr);

// Place's measure of a node for a job (lower is better): unused GPUs weigh heavily, so GPU nodes
// stay free for GPU jobs, then unused CPUs (best fit). `free_*` is what the node has free, the
// others what the job takes there. Ties go to the node listed first.
inline int64_t PlacementWaste(int32_t free_cpus, int32_t free_gpus, int32_t cpus, int32_t gpus) {
  return int64_t(free_gpus - gpus) * 1000000 + (free_cpus - cpus);
}
// The `want` free GPUs of `model` ("": any) that Place takes on `n`, as close together as they
// can be: under one PCIe switch when one has enough (the one with the fewest free), else in one
// NUMA node (likewise, on as few switches as it can), else across NUMA nodes, lowest first. In
// locality order (NUMA node, switch, index): the order CUDA_VISIBLE_DEVICES gets.
std::vector<int32_t> PickGpus(const NodeView& n, const std::string& model, int32_t want);

// Places every component of a heterogeneous job (or the one of a plain job) together: all or
// nothing. When every component is of one node and some node holds them all (an RL learner with
// its actors), they go on one node: the least wasteful such. Else components are placed in order
// on what the earlier ones left free. Each NodeAllocation carries its component index.
Placement PlaceJob(const JobSpec& spec, const std::vector<NodeView>& nodes);

// Takes an allocation out of the free resources of `nodes` (matched by name). Returns false,
// changing nothing, if any part of it is not free: reserve/unreserve must balance exactly.
bool Reserve(const Allocation& alloc, std::vector<NodeView>* nodes);
// Gives an allocation back. The inverse of Reserve.
void Unreserve(const Allocation& alloc, std::vector<NodeView>* nodes);

// Node positions by name, for the forms below that find each node in constant time.
using NodeIndex = std::unordered_map<std::string, size_t>;
NodeIndex IndexNodes(const std::vector<NodeView>& nodes);
// Takes an allocation out of the nodes, found through `index` (unknown nodes are skipped); the
// caller knows it is free. GiveAt is its inverse.
void TakeAt(const Allocation& alloc, const NodeIndex& index, std::vector<NodeView>* nodes);
void GiveAt(const Allocation& alloc, const NodeIndex& index, std::vector<NodeView>* nodes);

}  // namespace corral::sched
