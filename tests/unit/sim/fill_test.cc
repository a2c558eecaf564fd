// The fragmentation experiment (fill.h): small machines where the policies differ for a known
// reason, the errors, and the Alibaba trace when shared/data has it.
#include "sched/sim/fill.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "sched/sim/alibaba.h"

namespace corral::sim {
namespace {

SimJob Pod(int32_t gpus, int32_t milli = 1000, int32_t cpus = 1) {
  SimJob j;
  j.procs = cpus;
  j.gpus = gpus;
  j.gpu_milli = milli;
  j.run_s = 1;
  return j;
}

Machine TwoNodes() {
  Machine m;
  m.groups = {NodeGroup{1, 16, 0, 2, "t4"}, NodeGroup{1, 16, 0, 1, "t4"}};
  return m;
}

TEST(Fill, FirstFitBreaksTheNodeABigPodNeeds) {
  // A half GPU, then a two-GPU pod: first fit puts the half on the two-GPU node, and the big pod
  // finds no node; best fit (Place without a mix, and the baseline) puts the half on the one-GPU
  // node. (Corral with a mix learns of two-GPU pods only once one arrives: fragmentation_test.)
  Workload w;
  w.jobs = {Pod(1, 500), Pod(2)};
  FillOptions o;
  o.until = 2.5 / 3;  // the two pods, once
  o.step = 0.1;
  for (FillPolicy p : {FillPolicy::kPlain, FillPolicy::kBestFit, FillPolicy::kFirstFit}) {
    Result<FillResult> r = Fill(w, TwoNodes(), p, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->pods, 2) << FillPolicyName(p);
    const bool ff = p == FillPolicy::kFirstFit;
    EXPECT_EQ(r->placed, ff ? 1 : 2) << FillPolicyName(p);
    EXPECT_DOUBLE_EQ(r->allocated, ff ? 0.5 / 3 : 2.5 / 3) << FillPolicyName(p);
    EXPECT_DOUBLE_EQ(r->gpu_demand, 2.5);
  }
}

TEST(Fill, WholeGpusGiveAShareAWholeDevice) {
  Machine m;
  m.groups = {NodeGroup{1, 16, 0, 2, "t4"}};
  Workload w;
  w.jobs = {Pod(1, 500)};
  FillOptions o;
  o.until = 1.0;  // four halves arrive
  Result<FillResult> shared = Fill(w, m, FillPolicy::kCorral, o);
  Result<FillResult> whole = Fill(w, m, FillPolicy::kWholeGpus, o);
  ASSERT_TRUE(shared.ok() && whole.ok());
  EXPECT_EQ(shared->pods, 4);
  EXPECT_EQ(shared->placed, 4);
  EXPECT_DOUBLE_EQ(shared->allocated, 1.0);
  EXPECT_DOUBLE_EQ(shared->allocated_at_capacity, 1.0);
  EXPECT_EQ(whole->placed, 2);
  EXPECT_DOUBLE_EQ(whole->allocated, 0.5) << "the pods' demand, not the devices they hold";
}

TEST(Fill, CpusLimitPodsToo) {
  Machine m;
  m.groups = {NodeGroup{1, 4, 0, 4, "t4"}};
  Workload w;
  w.jobs = {Pod(1, 1000, 3)};  // two such pods need 6 CPUs
  FillOptions o;
  o.until = 1.0;
  Result<FillResult> r = Fill(w, m, FillPolicy::kCorral, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pods, 4);
  EXPECT_EQ(r->placed, 1);
  EXPECT_DOUBLE_EQ(r->allocated, 0.25);
}

TEST(Fill, Errors) {
  Workload w;
  w.jobs = {Pod(1)};
  EXPECT_NE(Fill(w, Machine::Uniform(2, 4), FillPolicy::kCorral).status().message().find("no GPUs"),
            std::string::npos);
  Workload cpu;
  cpu.jobs = {Pod(0)};
  EXPECT_NE(Fill(cpu, TwoNodes(), FillPolicy::kCorral).status().message().find("no GPU pods"),
            std::string::npos);
  for (auto [until, step] : {std::pair{0.0, 0.1},
                             {-1.0, 0.1},
                             {101.0, 1.0},
                             {1.0, 0.0},
                             {1.0, 2.0},
                             {std::nan(""), 0.1}}) {
    FillOptions o;
    o.until = until, o.step = step;
    EXPECT_FALSE(Fill(w, TwoNodes(), FillPolicy::kCorral, o).ok()) << until << " " << step;
  }
  FillPolicy p;
  EXPECT_TRUE(ParseFillPolicy("best-fit", &p));
  EXPECT_EQ(p, FillPolicy::kBestFit);
  EXPECT_FALSE(ParseFillPolicy("worst-fit", &p));
}

std::string TraceDir() {
  if (const char* env = std::getenv("CORRAL_TRACES"); env != nullptr && *env != '\0') {
    return std::string(env) + "/alibaba-gpu-v2023";
  }
  return CORRAL_SOURCE_DIR "/../shared/data/traces/alibaba-gpu-v2023";
}

TEST(FillTrace, AlibabaCorralAllocatesAtLeastFirstFit) {
  const std::string dir = TraceDir();
  const std::string all = dir + "/openb_node_list_all_node.csv";
  if (!std::filesystem::exists(all)) GTEST_SKIP() << all << " is absent";
  Result<Workload> w = ReadAlibaba(dir, all, AlibabaOptions{});
  ASSERT_TRUE(w.ok()) << w.status().message();
  Machine m;
  m.groups = w->machine;
  FillOptions o;
  o.until = 1.3;
  double allocated[2] = {0, 0};
  for (FillPolicy p :
       {FillPolicy::kCorral, FillPolicy::kFirstFit, FillPolicy::kPlain, FillPolicy::kBestFit}) {
    Result<FillResult> r = Fill(*w, m, p, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    double last_arrived = 0, last_allocated = 0;
    for (const FillPoint& x : r->curve) {
      EXPECT_GT(x.arrived, last_arrived);
      EXPECT_GE(x.allocated, last_allocated) << "nothing ends";
      EXPECT_LE(x.allocated, std::min(x.arrived, 1.0) + 1e-9);
      last_arrived = x.arrived, last_allocated = x.allocated;
    }
    if (p == FillPolicy::kCorral) allocated[0] = r->allocated;
    if (p == FillPolicy::kFirstFit) allocated[1] = r->allocated;
    std::printf("%s: allocated %.4f of the GPUs at %.2fx arrived (%.4f at 1x), %lld/%lld pods\n",
                FillPolicyName(p), r->allocated, o.until, r->allocated_at_capacity,
                static_cast<long long>(r->placed), static_cast<long long>(r->pods));
  }
  EXPECT_GE(allocated[0], allocated[1]);
}

}  // namespace
}  // namespace corral::sim
