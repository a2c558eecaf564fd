#include "sched/core/fifo.h"

#include <gtest/gtest.h>

namespace corral::sched {
namespace {

JobSpec Cpus(int n) {
  JobSpec s;
  s.cpus_per_task = n;
  return s;
}

TEST(Fifo, StartsInOrderAndBlocksBehindTheFirstThatWaits) {
  NodeProfile p;
  p.name = "n1";
  p.cpus = 8;
  p.mem_mib = 1000;
  std::vector<NodeView> nodes{NodeView::Idle(p)};
  JobSpec a = Cpus(4), b = Cpus(6), c = Cpus(1);
  PassResult r = ScheduleFifo({{1, &a}, {2, &b}, {3, &c}}, &nodes);
  ASSERT_EQ(r.starts.size(), 1u);
  EXPECT_EQ(r.starts[0].id, 1);
  EXPECT_EQ(r.blocked, 2);  // FIFO: job 3 would fit but waits behind job 2
  EXPECT_EQ(r.blocked_reason, "Resources");
  EXPECT_EQ(nodes[0].free_cpus, 4);
}

TEST(Fifo, FillsANodeExactly) {
  NodeProfile p;
  p.name = "n1";
  p.cpus = 4;
  std::vector<NodeView> nodes{NodeView::Idle(p)};
  JobSpec one = Cpus(1);
  std::vector<QueuedJob> q;
  for (int i = 1; i <= 6; ++i) q.push_back({i, &one});
  PassResult r = ScheduleFifo(q, &nodes);
  EXPECT_EQ(r.starts.size(), 4u);
  EXPECT_EQ(nodes[0].free_cpus, 0);
  EXPECT_EQ(r.blocked, 5);
}

// A job whose GPUs are only on a node that is not up (down, being checked, or failed its check)
// is passed over with its reason; the jobs behind it start, and the next one that waits for
// free resources still blocks the rest.
TEST(Fifo, JobsForNodesThatAreNotUpBlockNobody) {
  NodeProfile cpu, gpu;
  cpu.name = "cpu1";
  cpu.cpus = 4;
  gpu.name = "gpu1";
  gpu.cpus = 4;
  gpu.gpus.push_back({0, "b200", 0, 0, ""});
  std::vector<NodeView> nodes{NodeView::Idle(cpu), NodeView::Idle(gpu)};
  nodes[1].up = false;
  JobSpec needs_gpu = Cpus(1);
  needs_gpu.gpus = 1;
  needs_gpu.gpu_model = "b200";
  JobSpec small = Cpus(2), big = Cpus(4), after = Cpus(1);
  PassResult r = ScheduleFifo({{1, &needs_gpu}, {2, &small}, {3, &big}, {4, &after}}, &nodes);
  ASSERT_EQ(r.starts.size(), 1u);
  EXPECT_EQ(r.starts[0].id, 2);
  ASSERT_EQ(r.unavailable.size(), 1u);
  EXPECT_EQ(r.unavailable[0].first, 1);
  EXPECT_EQ(r.unavailable[0].second.rfind("ReqNodeNotAvail (", 0), 0u) << r.unavailable[0].second;
  EXPECT_NE(r.unavailable[0].second.find("b200"), std::string::npos) << r.unavailable[0].second;
  EXPECT_EQ(r.blocked, 3);  // fits the up nodes, just not now: it still blocks job 4
  // Once the GPU node is up the job is placed there.
  nodes[1].up = true;
  r = ScheduleFifo({{1, &needs_gpu}}, &nodes);
  ASSERT_EQ(r.starts.size(), 1u);
  EXPECT_EQ(r.starts[0].alloc[0].node, "gpu1");
}

}  // namespace
}  // namespace corral::sched
