// Multifactor priority: each factor normalised to 0..1 (parts per million), times its weight,
// summed, minus nice; and the order a pass takes jobs in.
#include "sched/core/priority.h"

#include <gtest/gtest.h>

#include <limits>

#include "sched/core/schedule.h"

namespace corral::sched {
namespace {

constexpr TimeMs kDay = 24 * 3600 * 1000LL;

TEST(Priority, FactorsAreNormalisedAndWeighted) {
  PriorityWeights w;
  w.age = 1000;
  w.job_size = 500;
  w.gpu = 2000;
  w.max_age_ms = 2 * kDay;
  PriorityInputs in;
  in.eligible_ms = 0;
  in.cpus = 16;
  in.gpus = 1;
  in.nice = 7;
  Priority p = ComputePriority(kDay, in, {64, 4}, w);
  EXPECT_EQ(p.age, kOne / 2);       // one day of two
  EXPECT_EQ(p.job_size, kOne / 4);  // 16 of 64 CPUs
  EXPECT_EQ(p.gpu, kOne / 4);       // 1 of 4 GPUs
  EXPECT_EQ(p.value, 500 + 125 + 500 - 7);
  // Past the maximum age, and more than the cluster has: factors stop at 1.
  in.cpus = 1000;
  Priority q = ComputePriority(10 * kDay, in, {64, 4}, w);
  EXPECT_EQ(q.age, kOne);
  EXPECT_EQ(q.job_size, kOne);
  auto rows = Factors(q, w);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].name, "age");
  EXPECT_EQ(rows[0].contribution, 1000);
  EXPECT_EQ(rows[2].name, "job_size");
  EXPECT_EQ(rows[2].contribution, 500);
}

TEST(Priority, HostileInputsStayInRange) {
  PriorityWeights w;
  w.age = int64_t{1} << 31;
  w.job_size = int64_t{1} << 31;
  w.max_age_ms = 1;
  PriorityInputs in;
  in.eligible_ms = std::numeric_limits<TimeMs>::min() / 2;  // "waited" longer than time itself
  in.cpus = std::numeric_limits<int64_t>::max();
  in.fairshare = -5;  // out of range: clamped
  in.qos = 3 * kOne;  // out of range: clamped
  Priority p = ComputePriority(std::numeric_limits<TimeMs>::max() / 2, in, {1, 0}, w);
  EXPECT_EQ(p.age, kOne);
  EXPECT_EQ(p.job_size, kOne);
  EXPECT_EQ(p.fairshare, 0);
  EXPECT_EQ(p.qos, kOne);
  EXPECT_EQ(p.gpu, 0);  // no GPUs in the cluster: no factor, no division by zero
  EXPECT_EQ(p.value, 2 * (int64_t{1} << 31));
  // A clock that went backwards gives no negative age.
  in.eligible_ms = 1000;
  EXPECT_EQ(ComputePriority(0, in, {1, 0}, w).age, 0);
}

TEST(JobTotals, CountEveryNodeOfEveryComponentAsPlacementWould) {
  JobSpec s;
  s.nodes = 2;
  s.ntasks = 3;  // 2 tasks per node, rounded up
  s.cpus_per_task = 2;
  s.gpus = 3;  // 2 per node, rounded up
  JobSpec::HetComponent h;
  h.nodes = 1;
  h.ntasks = 4;
  h.gpus_per_node = 1;
  s.het.push_back(h);
  EXPECT_EQ(s.TotalCpus(), 2 * 2 * 2 + 4);
  EXPECT_EQ(s.TotalGpus(), 2 * 2 + 1);
  int64_t cpus = 0, gpus = 0;
  for (size_t c = 0; c < s.NumComponents(); ++c) {
    JobSpec part = s.Component(c);
    cpus += static_cast<int64_t>(part.CpusPerNode()) * part.nodes;
    gpus += static_cast<int64_t>(part.GpusPerNode()) * part.nodes;
  }
  EXPECT_EQ(s.TotalCpus(), cpus);
  EXPECT_EQ(s.TotalGpus(), gpus);
}

TEST(PriorityOrder, HigherFirstTiesToTheLowerId) {
  JobSpec s;
  std::vector<WaitingJob> jobs(4);
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].id = static_cast<JobId>(10 - i);  // ids 10, 9, 8, 7
    jobs[i].spec = &s;
  }
  jobs[0].priority.eligible_ms = 0;  // id 10: the oldest
  jobs[1].priority.eligible_ms = 5 * kDay;
  jobs[2].priority.eligible_ms = 5 * kDay;
  jobs[3].priority.eligible_ms = 5 * kDay;
  jobs[3].priority.nice = 1;  // id 7: niced below its equals
  PriorityWeights w;
  w.max_age_ms = 10 * kDay;
  auto order = PriorityOrder(6 * kDay, jobs, {8, 0}, w);
  std::vector<JobId> ids;
  for (size_t i : order) ids.push_back(jobs[i].id);
  EXPECT_EQ(ids, (std::vector<JobId>{10, 8, 9, 7}));
}

}  // namespace
}  // namespace corral::sched
