// Resource fit, as tables: node set, request, expected placement or rejection.
#include "sched/core/fit.h"

#include <gtest/gtest.h>

namespace corral::sched {
namespace {

NodeProfile Node(const std::string& name, int cpus, int64_t mem, int h100_numa0 = 0,
                 int h100_numa1 = 0, const std::string& model = "h100") {
  NodeProfile p;
  p.name = name;
  p.cpus = cpus;
  p.mem_mib = mem;
  p.numa_nodes = 2;
  for (int i = 0; i < h100_numa0 + h100_numa1; ++i) {
    p.gpus.push_back({i, model, 81920, i < h100_numa0 ? 0 : 1, ""});
  }
  return p;
}

JobSpec Req(int nodes, int ntasks, int cpt, int64_t mem = 0, int gpus = 0,
            const std::string& model = "") {
  JobSpec s;
  s.nodes = nodes;
  s.ntasks = ntasks;
  s.cpus_per_task = cpt;
  s.mem_mib = mem;
  s.gpus = gpus;
  s.gpu_model = model;
  s.script = "#!/bin/sh\n";
  return s;
}

std::vector<NodeProfile> Cluster() {
  return {Node("cpu1", 32, 64000), Node("cpu2", 32, 64000), Node("h100-0", 64, 512000, 2, 2),
          Node("a100-0", 128, 1000000, 4, 4, "a100")};
}

struct FeasCase {
  const char* what;
  JobSpec spec;
  const char* error_contains;  // nullptr = feasible
};

TEST(CheckFeasible, Table) {
  const FeasCase cases[] = {
      {"one cpu", Req(1, 1, 1), nullptr},
      {"whole a100 node", Req(1, 1, 128, 0, 8, "a100"), nullptr},
      {"h100 x4", Req(1, 1, 1, 0, 4, "h100"), nullptr},
      {"h100 x16", Req(1, 1, 1, 0, 16, "h100"), "--gpus=h100:16: the largest node has 4 h100"},
      {"any gpu x9", Req(1, 1, 1, 0, 9), "the largest node has 8 GPUs"},
      {"unknown model", Req(1, 1, 1, 0, 1, "b200"), "no node has b200 GPUs"},
      {"either model", Req(1, 1, 1, 0, 8, "b200|a100"), nullptr},
      {"neither model", Req(1, 1, 1, 0, 1, "b200|v100"), "no node has b200|v100 GPUs"},
      {"either, too many", Req(1, 1, 1, 0, 9, "h100|a100"), "the largest node has 8 h100|a100"},
      {"too many cpus", Req(1, 1, 200), "needs 200 CPUs per node: the largest node has 128"},
      {"too much memory", Req(1, 1, 1, 2000000), "--mem=2000000M: the largest node has 1000000"},
      {"too many nodes", Req(5, 5, 1), "--nodes=5: only 4 node(s)"},
      {"two h100 nodes", Req(2, 2, 1, 0, 8, "h100"),
       "--nodes=2: only 1 node(s) have 1 CPUs, 4 h100"},
      {"h100 x10 over 2 nodes", Req(2, 2, 1, 0, 10, "h100"), "(5 per node over 2 nodes)"},
      {"zero nodes", Req(0, 1, 1), "--nodes: must be at least 1"},
      {"fewer tasks than nodes", Req(3, 2, 1), "fewer than --nodes=3"},
      {"negative memory", Req(1, 1, 1, -5), "--mem: must not be negative"},
  };
  for (const auto& c : cases) {
    Status s = CheckFeasible(c.spec, Cluster());
    if (c.error_contains == nullptr) {
      EXPECT_TRUE(s.ok()) << c.what << ": " << s.message();
    } else {
      EXPECT_FALSE(s.ok()) << c.what;
      EXPECT_NE(s.message().find(c.error_contains), std::string::npos)
          << c.what << ": got \"" << s.message() << "\"";
    }
  }
}

TEST(CheckFeasible, EmptyClusterAcceptsAndWaits) {
  EXPECT_TRUE(CheckFeasible(Req(1, 1, 1, 0, 4, "h100"), {}).ok());
}

std::vector<NodeView> Views() {
  std::vector<NodeView> v;
  for (const auto& p : Cluster()) v.push_back(NodeView::Idle(p));
  return v;
}

TEST(Place, CpuJobAvoidsGpuNodes) {
  Placement p = Place(Req(1, 1, 4), Views());
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  ASSERT_EQ(p.alloc.size(), 1u);
  EXPECT_EQ(p.alloc[0].node.rfind("cpu", 0), 0u) << p.alloc[0].node;
  EXPECT_EQ(p.alloc[0].cpus, 4);
}

TEST(Place, GpusComeFromOneNumaNode) {
  Placement p = Place(Req(1, 1, 1, 0, 2, "h100"), Views());
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].node, "h100-0");
  ASSERT_EQ(p.alloc[0].gpu_indices.size(), 2u);
  const std::vector<NodeProfile> cluster = Cluster();  // kept: gpus refers into it
  const auto& gpus = cluster[2].gpus;
  EXPECT_EQ(gpus[p.alloc[0].gpu_indices[0]].numa, gpus[p.alloc[0].gpu_indices[1]].numa);
}

// An 8-GPU node: NUMA 0 holds switch 0 (GPUs 0, 1, 4, 5) and switch 1 (2, 3, 6, 7); NUMA 1
// holds switch 2 (8, 9). The ids interleave, so picking the lowest would cross switches.
NodeView EightGpuNode() {
  NodeProfile p;
  p.name = "dgx";
  p.cpus = 64;
  p.mem_mib = 512000;
  p.numa_nodes = 2;
  const int32_t sw[] = {0, 0, 1, 1, 0, 0, 1, 1, 2, 2};
  for (int32_t i = 0; i < 10; ++i) {
    GpuDevice g{i, "h100", 81920, i < 8 ? 0 : 1, ""};
    g.pcie_switch = sw[i];
    p.gpus.push_back(g);
  }
  return NodeView::Idle(p);
}

TEST(PickGpus, TakesOneSwitchThenOneNumaNodeBestFit) {
  NodeView n = EightGpuNode();
  using V = std::vector<int32_t>;
  // 4 GPUs: one switch; switch 0 and 1 tie, the first is taken.
  EXPECT_EQ(PickGpus(n, "h100", 4), (V{0, 1, 4, 5}));
  // With GPU 0 busy, switch 0 has 3 free: 4 come from switch 1, 2 from switch 2 (the fewest
  // free that still has enough), 3 from switch 0.
  n.gpu_free[0] = false;
  EXPECT_EQ(PickGpus(n, "h100", 4), (V{2, 3, 6, 7}));
  EXPECT_EQ(PickGpus(n, "h100", 2), (V{8, 9}));
  EXPECT_EQ(PickGpus(n, "h100", 3), (V{1, 4, 5}));
  // 6: no switch has them; NUMA 0 does, the fuller switch's four first, in locality order.
  EXPECT_EQ(PickGpus(n, "h100", 6), (V{1, 4, 2, 3, 6, 7}));
  // 9: across NUMA nodes.
  EXPECT_EQ(PickGpus(n, "h100", 9), (V{1, 4, 5, 2, 3, 6, 7, 8, 9}));
  EXPECT_TRUE(PickGpus(n, "h100", 0).empty());
  EXPECT_EQ(PickGpus(n, "a100", 1), V{});
}

// Without switch information it is the NUMA best fit, lowest indices first.
TEST(PickGpus, WithoutSwitchesOneNumaNodeLowestFirst) {
  NodeView n = NodeView::Idle(Node("h", 64, 512000, 3, 2));
  using V = std::vector<int32_t>;
  EXPECT_EQ(PickGpus(n, "h100", 2), (V{3, 4}));  // NUMA 1 has exactly 2
  EXPECT_EQ(PickGpus(n, "h100", 3), (V{0, 1, 2}));
  EXPECT_EQ(PickGpus(n, "h100", 4), (V{0, 1, 2, 3}));
}

TEST(Place, MultiNodeUsesDistinctNodes) {
  Placement p = Place(Req(2, 2, 1), Views());
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  ASSERT_EQ(p.alloc.size(), 2u);
  EXPECT_NE(p.alloc[0].node, p.alloc[1].node);
}

TEST(Place, NotNowWhenBusyAndWhenDown) {
  auto v = Views();
  for (auto& n : v) n.free_cpus = 0;
  EXPECT_EQ(Place(Req(1, 1, 1), v).kind, Placement::Kind::kNotNow);
  auto d = Views();
  for (auto& n : d) n.up = false;
  Placement p = Place(Req(1, 1, 1), d);
  EXPECT_EQ(p.kind, Placement::Kind::kNotNow);
  EXPECT_NE(p.reason.find("0 up"), std::string::npos) << p.reason;
}

TEST(Place, EitherModelTakesWhicheverIsFree) {
  auto v = Views();
  Placement p = Place(Req(1, 1, 1, 0, 4, "h100|a100"), v);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].gpu_indices.size(), 4u);
  const std::string first = p.alloc[0].node;
  EXPECT_TRUE(first == "h100-0" || first == "a100-0") << first;
  // The node it took is full; the other model serves the same request.
  for (auto& n : v) {
    if (n.profile.name == first) n.gpu_free.assign(n.gpu_free.size(), false);
  }
  Placement q = Place(Req(1, 1, 1, 0, 4, "h100|a100"), v);
  ASSERT_EQ(q.kind, Placement::Kind::kPlaced);
  EXPECT_NE(q.alloc[0].node, first);
  EXPECT_TRUE(q.alloc[0].node == "h100-0" || q.alloc[0].node == "a100-0") << q.alloc[0].node;
  // A model no node has, among the alternatives, is simply never chosen.
  Placement r = Place(Req(1, 1, 1, 0, 2, "b200|h100"), Views());
  ASSERT_EQ(r.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(r.alloc[0].node, "h100-0");
}

TEST(ReserveUnreserve, BalanceExactly) {
  auto v = Views();
  auto before = v;
  Placement p = Place(Req(1, 2, 3, 1000, 3, "a100"), v);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  ASSERT_TRUE(Reserve(p.alloc, &v));
  EXPECT_EQ(v[3].free_cpus, 128 - 6);
  EXPECT_EQ(v[3].free_mem_mib, 1000000 - 1000);
  // Reserving the same GPUs twice fails and changes nothing.
  auto mid = v;
  EXPECT_FALSE(Reserve(p.alloc, &v));
  EXPECT_EQ(v[3].free_cpus, mid[3].free_cpus);
  EXPECT_EQ(v[3].gpu_free, mid[3].gpu_free);
  Unreserve(p.alloc, &v);
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i].free_cpus, before[i].free_cpus);
    EXPECT_EQ(v[i].free_mem_mib, before[i].free_mem_mib);
    EXPECT_EQ(v[i].gpu_free, before[i].gpu_free);
  }
}

}  // namespace
}  // namespace corral::sched

namespace corral::sched {
namespace {

TEST(PlaceJob, HeterogeneousComponentsAllOrNothing) {
  JobSpec learner = Req(1, 1, 2, 0, 2, "h100");
  learner.het.push_back({2, 2, 1, 0, "", 0, 0});
  auto v = Views();
  Placement p = PlaceJob(learner, v);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  ASSERT_EQ(p.alloc.size(), 3u);
  EXPECT_EQ(p.alloc[0].component, 0);
  EXPECT_EQ(p.alloc[0].node, "h100-0");
  EXPECT_EQ(p.alloc[1].component, 1);
  EXPECT_EQ(p.alloc[2].component, 1);
  // With the GPUs taken, nothing of the job is placed, and the views are untouched.
  for (auto& n : v) std::fill(n.gpu_free.begin(), n.gpu_free.end(), false);
  auto before = v;
  EXPECT_EQ(PlaceJob(learner, v).kind, Placement::Kind::kNotNow);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i].free_cpus, before[i].free_cpus);
}

TEST(CheckFeasible, NamesTheImpossibleComponent) {
  JobSpec s = Req(1, 1, 1);
  s.het.push_back({1, 1, 1, 0, "h100", 9, 0});
  Status st = CheckFeasible(s, Cluster());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("hetjob component 1: --gpus=h100:9"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace corral::sched

namespace corral::sched {
namespace {

// A job on several nodes takes GPUs of one model: with none named, or alternatives, it waits
// for nodes of one model rather than mixing them, and is refused when no model has enough.
TEST(Place, MultiNodeGpuJobsNeverMixModels) {
  std::vector<NodeView> nodes = {NodeView::Idle(Node("h0", 16, 64000, 4)),
                                 NodeView::Idle(Node("a0", 16, 64000, 4, 0, "a100")),
                                 NodeView::Idle(Node("h1", 16, 64000, 4))};
  std::vector<NodeProfile> profiles;
  for (const NodeView& n : nodes) profiles.push_back(n.profile);
  for (const char* model : {"", "a100|h100"}) {
    JobSpec two = Req(2, 2, 1, 0, 0, model);
    two.gpus_per_node = 2;
    Placement p = Place(two, nodes);
    ASSERT_EQ(p.kind, Placement::Kind::kPlaced) << model;
    EXPECT_EQ(p.alloc[0].node + p.alloc[1].node, "h0h1") << model;
    JobSpec three = Req(3, 3, 1, 0, 0, model);
    three.gpus_per_node = 2;
    Status st = CheckFeasible(three, profiles);
    EXPECT_NE(st.message().find("--nodes=3: only 2 node(s) have 1 CPUs, 2 " +
                                std::string(*model ? model : "GPUs") + " of one model"),
              std::string::npos)
        << st.message();
    // With one h100 node busy, it waits: a0 and h1 would mix models.
    std::vector<NodeView> busy = nodes;
    busy[0].gpu_free.assign(4, false);
    EXPECT_EQ(Place(two, busy).kind, Placement::Kind::kNotNow) << model;
  }
  JobSpec named = Req(2, 2, 1, 0, 0, "h100");
  named.gpus_per_node = 2;
  EXPECT_TRUE(CheckFeasible(named, profiles).ok());
}

// An RL job (a GPU learner and CPU actors, one node each) goes on one node when one holds both,
// else its parts are placed one by one.
TEST(PlaceJob, LearnerAndActorsShareANodeWhenTheyFit) {
  std::vector<NodeView> nodes = {NodeView::Idle(Node("cpu", 32, 64000)),
                                 NodeView::Idle(Node("gpu", 16, 64000, 2))};
  JobSpec rl = Req(1, 1, 2, 0, 1, "h100");
  rl.het.push_back({1, 8, 1, 0, "", 0, 0});
  Placement p = PlaceJob(rl, nodes);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  ASSERT_EQ(p.alloc.size(), 2u);
  EXPECT_EQ(p.alloc[0].node, "gpu");
  EXPECT_EQ(p.alloc[1].node, "gpu") << "the actors beside their learner";
  EXPECT_EQ(p.alloc[1].component, 1);
  rl.het[0].ntasks = 20;  // 2 + 20 CPUs: more than the GPU node has
  p = PlaceJob(rl, nodes);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].node, "gpu");
  EXPECT_EQ(p.alloc[1].node, "cpu");
}

// Alternatives in order of preference: the first model with room, even where another fits better.
TEST(Place, OrderedAlternativesTakeTheFirstModelWithRoom) {
  std::vector<NodeView> nodes = {NodeView::Idle(Node("h", 8, 64000, 1)),
                                 NodeView::Idle(Node("a", 8, 64000, 4, 0, "a100"))};
  JobSpec j = Req(1, 1, 1, 0, 1, "a100|h100");
  Placement p = Place(j, nodes);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].node, "h") << "unordered: best fit, the one-GPU node";
  j.gpu_models_in_order = true;
  p = Place(j, nodes);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].node, "a") << "ordered: a100 first";
  nodes[1].gpu_free.assign(4, false);
  p = Place(j, nodes);
  ASSERT_EQ(p.kind, Placement::Kind::kPlaced);
  EXPECT_EQ(p.alloc[0].node, "h") << "no a100 free: the next one";
  nodes[0].gpu_free.assign(1, false);
  EXPECT_EQ(Place(j, nodes).kind, Placement::Kind::kNotNow);
}

}  // namespace
}  // namespace corral::sched
