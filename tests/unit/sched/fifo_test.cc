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

}  // namespace
}  // namespace corral::sched
