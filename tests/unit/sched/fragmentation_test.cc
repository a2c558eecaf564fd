// Fragmentation-aware placement (fragmentation.h): what a node's expected fragmentation is for a
// mix of jobs, and where Place with a mix puts a job.
#include "sched/core/fragmentation.h"

#include <gtest/gtest.h>

namespace corral::sched {
namespace {

NodeProfile Node(const std::string& name, int cpus, int gpus, const std::string& model = "t4") {
  NodeProfile p;
  p.name = name;
  p.cpus = cpus;
  p.mem_mib = 64000;
  for (int i = 0; i < gpus; ++i) p.gpus.push_back({i, model, 16384, 0, ""});
  return p;
}

JobSpec Gpus(int32_t gpus, int32_t milli = 0, int32_t cpus = 1) {
  JobSpec s;
  s.ntasks = cpus;
  s.gpus = gpus;
  s.gpu_milli = milli;
  return s;
}

TEST(Fragmentation, FreeCapacityAKindCannotUse) {
  NodeView n = NodeView::Idle(Node("a", 8, 2));
  JobMix whole;
  whole.Add(Gpus(1));
  EXPECT_EQ(Fragmentation(n, whole), 0) << "an idle node serves whole-GPU jobs";
  NodeAllocation half{"a", 1, 0, {0}, 0, 500};
  EXPECT_EQ(Fragmentation(n, whole, &half), 500) << "the other half of GPU 0";
  JobMix shares;
  shares.Add(Gpus(1, 500));
  EXPECT_EQ(Fragmentation(n, shares, &half), 0) << "a half fits in the other half";
  NodeAllocation all_cpus{"a", 8, 0, {}, 0, 0};
  EXPECT_EQ(Fragmentation(n, whole, &all_cpus), 2000) << "no CPU left: both GPUs are lost";
  // Weighted: three whole-GPU jobs to one half.
  JobMix mixed;
  for (int k = 0; k < 3; ++k) mixed.Add(Gpus(1));
  mixed.Add(Gpus(1, 500));
  EXPECT_DOUBLE_EQ(Fragmentation(n, mixed, &half), 0.75 * 500);
  // Another model's jobs cannot use any of it.
  JobSpec v100 = Gpus(1);
  v100.gpu_model = "v100";
  JobMix other;
  other.Add(v100);
  EXPECT_EQ(Fragmentation(n, other), 2000);
  EXPECT_EQ(Fragmentation(NodeView::Idle(Node("c", 8, 0)), whole), 0) << "no GPUs, none lost";
}

TEST(Fragmentation, MixKeepsTheMostFrequentKinds) {
  JobMix mix;
  for (int k = 0; k < 20; ++k) {
    for (int r = 0; r <= k; ++r) mix.Add(Gpus(1, 0, 1 << (k % 8)) /* 8 CPU sizes */);
  }
  for (int k = 0; k < 30; ++k) mix.Add(Gpus(1, 10 * (k + 1)));  // 30 shares, once each
  EXPECT_EQ(mix.Top().size(), JobMix::kMaxKinds);
  for (size_t k = 1; k < mix.Top().size(); ++k) {
    EXPECT_GE(mix.Top()[k - 1].weight, mix.Top()[k].weight);
  }
  JobSpec two_nodes = Gpus(1);
  two_nodes.nodes = 2, two_nodes.ntasks = 2;
  JobMix none;
  none.Add(two_nodes);
  none.Add(Gpus(0));
  EXPECT_TRUE(none.empty()) << "only one-node GPU jobs make the mix";
}

TEST(Fragmentation, PlaceKeepsWhatTheMixNeedsWhole) {
  // Two-GPU jobs are expected: a half goes on the one-GPU node, not on the node a two-GPU job
  // needs whole (best fit agrees here; first fit would not).
  std::vector<NodeView> nodes = {NodeView::Idle(Node("a", 16, 2)),
                                 NodeView::Idle(Node("b", 16, 1))};
  JobMix mix;
  mix.Add(Gpus(2));
  mix.Add(Gpus(1, 500));
  Placement p = Place(Gpus(1, 500), nodes, &mix);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].node, "b");
  // A CPU job on two GPU nodes takes CPUs where GPU jobs will not miss them: node a keeps 8 CPUs
  // for its GPUs either way, b would keep none for its GPU.
  std::vector<NodeView> gpu_nodes = {NodeView::Idle(Node("b", 8, 1)),
                                     NodeView::Idle(Node("a", 16, 2))};
  JobMix eight;
  eight.Add(Gpus(1, 0, 8));
  JobSpec cpu_job;
  cpu_job.ntasks = 8;
  p = Place(cpu_job, gpu_nodes, &eight);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].node, "a");
  p = Place(cpu_job, gpu_nodes);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].node, "b") << "without a mix: best fit on CPUs";
}

}  // namespace
}  // namespace corral::sched
