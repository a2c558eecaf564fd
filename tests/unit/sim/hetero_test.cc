// Heterogeneity-aware placement against agnostic (hetero.h) on a small table, and its errors.
#include "sched/sim/hetero.h"

#include <gtest/gtest.h>

namespace corral::sim {
namespace {

GavelTable Table() {
  GavelTable t;
  t.models = {"fast", "slow"};
  t.jobs = {"train"};
  t.throughput[{"fast", "train"}] = 4.0;
  t.throughput[{"slow", "train"}] = 1.0;
  return t;
}

SimJob Job(int64_t id, int64_t submit, int64_t run) {
  SimJob j;
  j.id = id;
  j.submit_s = submit;
  j.run_s = run;
  j.gpus = 1;
  return j;
}

// One node of each model, of one GPU and one CPU.
HeteroOptions OneGpuOfEachModel() {
  HeteroOptions o;
  o.nodes_per_model = 1;
  o.gpus_per_node = 1;
  o.cpus_per_node = 1;
  return o;
}

TEST(Hetero, AwareTakesTheFastModelAgnosticWhicheverFits) {
  // One node of each model, one GPU each. Jobs arrive one after another, each running 100 s on
  // the fast model (400 s on the slow one).
  Workload w;
  for (int k = 0; k < 4; ++k) w.jobs.push_back(Job(k + 1, 200 * k, 100));
  Result<HeteroResult> r = CompareHeterogeneity(w, Table(), OneGpuOfEachModel());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->jobs, 4);
  EXPECT_EQ(r->aware.jobs_on, (std::vector<int64_t>{4, 0})) << "each finds the fast GPU free";
  EXPECT_DOUBLE_EQ(r->aware.summary.mean_jct_s, 100);
  // Agnostic: best fit ties go to the first node listed, the fast one here, so it also runs
  // there; what differs is only the order of preference.
  EXPECT_EQ(r->agnostic.jobs_on[0] + r->agnostic.jobs_on[1], 4);
}

TEST(Hetero, AwareWaitsNotForTheFastModelButTakesTheSlowWhenItIsBusy) {
  Workload w;
  w.jobs = {Job(1, 0, 100), Job(2, 1, 100)};
  Result<HeteroResult> r = CompareHeterogeneity(w, Table(), OneGpuOfEachModel());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->aware.jobs_on, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(r->aware.summary.makespan_s, 401) << "the second runs 400 s on the slow GPU";
  // --gpu-choice=fastest waits 99 s for the fast GPU, and finishes 201 s sooner.
  EXPECT_EQ(r->fastest.jobs_on, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(r->fastest.summary.makespan_s, 200);
  EXPECT_LT(r->fastest.summary.mean_jct_s, r->aware.summary.mean_jct_s);
}

TEST(Hetero, FastestTakesTheSlowModelWhenWaitingCostsMore) {
  // The fast GPU is held for 1,000 s: waiting for it ends later than 400 s on the slow one.
  Workload w;
  w.jobs = {Job(1, 0, 1000), Job(2, 1, 100)};
  Result<HeteroResult> r = CompareHeterogeneity(w, Table(), OneGpuOfEachModel());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->fastest.jobs_on, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(r->fastest.summary.makespan_s, 1000);
}

TEST(Hetero, Errors) {
  Workload w;
  w.jobs = {Job(1, 0, 100)};
  HeteroOptions bad;
  bad.nodes_per_model = 0;
  EXPECT_FALSE(CompareHeterogeneity(w, Table(), bad).ok());
  bad = {};
  bad.cpus_per_node = 2;  // fewer than the GPUs
  EXPECT_FALSE(CompareHeterogeneity(w, Table(), bad).ok());
  Workload big;
  big.jobs = {Job(1, 0, 100)};
  big.jobs[0].gpus = 64;
  EXPECT_FALSE(CompareHeterogeneity(big, Table(), {}).ok());
  EXPECT_FALSE(CompareHeterogeneity(w, GavelTable{}, {}).ok());
}

}  // namespace
}  // namespace corral::sim
