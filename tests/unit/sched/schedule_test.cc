// The pipeline of one pass (schedule.h): array throttles, then priority, then backfill.
#include "sched/core/schedule.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

using testing::CpuNode;

TEST(Schedule, AThrottledArrayStartsNoMoreThanItsLimit) {
  SchedulerState st;
  st.now = 1000;
  st.nodes = {CpuNode("a", 8), CpuNode("b", 8)};
  JobSpec task;
  task.array_job_id = 1;
  task.array_throttle = 2;
  std::vector<JobSpec> specs(6, task);
  for (size_t i = 0; i < specs.size(); ++i) {
    st.pending.push_back({static_cast<JobId>(i + 1), &specs[i], {}, nullptr});
  }
  Decisions d = Schedule(st, {});
  ASSERT_EQ(d.starts.size(), 2u);
  EXPECT_EQ(d.starts[0].id, 1);
  EXPECT_EQ(d.starts[1].id, 2);
  std::map<JobId, std::string> why(d.reasons.begin(), d.reasons.end());
  for (JobId id = 3; id <= 6; ++id) EXPECT_EQ(why[id], "JobArrayTaskLimit") << id;
  // With one task running, one more may start.
  st.array_running[1] = 1;
  st.pending.erase(st.pending.begin());
  d = Schedule(st, {});
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(d.starts[0].id, 2);
}

TEST(Schedule, PriorityDecidesWhoGetsTheLastCpus) {
  SchedulerState st;
  st.now = 10 * 24 * 3600 * 1000LL;
  st.nodes = {CpuNode("a", 4)};
  JobSpec big;
  big.ntasks = 4;
  std::vector<JobSpec> specs(2, big);
  st.pending.push_back({1, &specs[0], {}, nullptr});
  st.pending.push_back({2, &specs[1], {}, nullptr});
  st.pending[0].priority.eligible_ms = st.now;  // id 1: just now
  st.pending[1].priority.eligible_ms = 0;       // id 2: waited ten days
  SchedulerConfig cfg;
  Decisions d = Schedule(st, cfg);
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(d.starts[0].id, 2);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0].first, 1);
}

TEST(Schedule, ASmallShortJobBackfillsAroundAWideOneWithoutDelayingIt) {
  SchedulerState st;
  st.now = 0;
  st.nodes = {CpuNode("a", 8), CpuNode("b", 8)};
  // A job holds node a for 100 s.
  st.running.push_back({9, {{"a", 8, 0, {}, 0}}, 100000});
  NodeView& a = st.nodes[0];
  a.free_cpus = 0;
  JobSpec wide, small_short, small_long;
  wide.nodes = 2;
  wide.ntasks = 16;
  wide.time_limit_ms = 50000;
  small_short.ntasks = 4;
  small_short.time_limit_ms = 60000;  // ends before the wide job's start
  small_long.ntasks = 4;
  small_long.time_limit_ms = 200000;  // would delay it
  st.pending = {
      {1, &wide, {}, nullptr}, {2, &small_short, {}, nullptr}, {3, &small_long, {}, nullptr}};
  Decisions d = Schedule(st, {});
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(d.starts[0].id, 2);
  ASSERT_EQ(d.reservations.size(), 1u);
  EXPECT_EQ(d.reservations[0].id, 1);
  EXPECT_EQ(d.reservations[0].start, 100000);
  std::map<JobId, std::string> why(d.reasons.begin(), d.reasons.end());
  EXPECT_EQ(why[1], "Resources");
  EXPECT_EQ(why[3], "Priority");
}

}  // namespace
}  // namespace corral::sched

namespace corral::sched {
namespace {

TEST(RuntimeHistory, EasyPlusPlusUsesTheMeanOfTheLastTwoRunsCappedAtTheLimit) {
  RuntimeHistory h;
  EXPECT_EQ(h.Estimate(RuntimeModel::kHistory, "ann", 60000), 60000);  // no history: the limit
  h.Record("ann", 10000);
  h.Record("ann", 20000);
  h.Record("ann", 4000);  // only the last two count: 20 s and 4 s
  EXPECT_EQ(h.Estimate(RuntimeModel::kHistory, "ann", 60000), 12000);
  EXPECT_EQ(h.Estimate(RuntimeModel::kHistory, "ann", 5000), 5000);  // never above the limit
  EXPECT_EQ(h.Estimate(RuntimeModel::kHistory, "ann", 0), 12000);    // unlimited: the mean
  EXPECT_EQ(h.Estimate(RuntimeModel::kLimit, "ann", 60000), 60000);
  EXPECT_EQ(h.Estimate(RuntimeModel::kHistory, "bob", 60000), 60000);  // others' runs don't count
  h.Record("bob", -5);  // a clock gone wrong: at least 1 ms
  EXPECT_EQ(h.Estimate(RuntimeModel::kHistory, "bob", 60000), 1);
}

// With a short estimate, a job whose limit would delay the reservation backfills anyway.
TEST(Schedule, AShortEstimateLetsAJobBackfill) {
  SchedulerState st;
  st.now = 0;
  NodeProfile a, b;
  a.name = "a";
  b.name = "b";
  a.cpus = b.cpus = 8;
  a.mem_mib = b.mem_mib = 1024;
  st.nodes = {NodeView::Idle(a), NodeView::Idle(b)};
  st.nodes[0].free_cpus = 0;
  st.running.push_back({9, {{"a", 8, 0, {}, 0}}, 100000, nullptr});
  JobSpec wide, small;
  wide.nodes = 2;
  wide.ntasks = 16;
  wide.time_limit_ms = 50000;
  small.ntasks = 4;
  small.time_limit_ms = 200000;  // its limit would delay the wide job
  st.pending = {{1, &wide, {}, nullptr, 0}, {2, &small, {}, nullptr, 0}};
  EXPECT_TRUE(Schedule(st, {}).starts.empty());
  st.pending[1].runtime_ms = 30000;  // its user's jobs take 30 s
  Decisions d = Schedule(st, {});
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(d.starts[0].id, 2);
}

}  // namespace
}  // namespace corral::sched
