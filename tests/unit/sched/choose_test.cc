// Choosing a GPU model by speed or cost, and the terms of nodes and jobs (gpu_choice.h, terms.h,
// choose.h), through the one pass corrald and the simulator run (schedule.h).
#include <gtest/gtest.h>

#include <map>

#include "common/price.h"
#include "sched/core/gpu_choice.h"
#include "sched/core/schedule.h"
#include "sched/core/terms.h"
#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

using testing::Where;

constexpr TimeMs kHour = 3600 * 1000LL;

NodeView GpuNode(const std::string& name, const std::string& model, int gpus) {
  NodeProfile p;
  p.name = name;
  p.cpus = 16;
  p.mem_mib = 65536;
  for (int i = 0; i < gpus; ++i) p.gpus.push_back({i, model, 16384, 0, "", -1});
  return NodeView::Idle(p);
}

// A cluster of one 4-GPU node per model, priced per GPU-hour, with speeds.
struct Market {
  SchedulerState st;
  std::vector<std::unique_ptr<JobSpec>> specs;

  Market() {
    st.now = 1000;
    st.nodes = {GpuNode("k", "k80", 4), GpuNode("p", "p100", 4), GpuNode("v", "v100", 4)};
    st.gpu_catalog = {{"k80", {1.0, 500000}}, {"p100", {2.0, 1200000}}, {"v100", {4.0, 2500000}}};
  }
  JobSpec& Job(GpuChoice c, int gpus = 1, TimeMs limit = 8 * kHour) {
    specs.push_back(std::make_unique<JobSpec>());
    JobSpec& s = *specs.back();
    s.gpus = gpus;
    s.gpu_choice = c;
    s.time_limit_ms = limit;
    st.pending.push_back({static_cast<JobId>(specs.size()), &s, {}, nullptr, s.time_limit_ms});
    return s;
  }
  // Keeps node `name` busy until `until` (a job holding all its GPUs and CPUs).
  void Busy(const std::string& name, TimeMs until) {
    for (NodeView& n : st.nodes) {
      if (n.profile.name != name) continue;
      RunningJob r;
      r.id = 900 + static_cast<JobId>(st.running.size());
      NodeAllocation a{name, n.profile.cpus, 0, {}, 0, 0};
      for (size_t g = 0; g < n.profile.gpus.size(); ++g) a.gpu_indices.push_back(int32_t(g));
      r.alloc = {a};
      r.expected_end = until;
      n.free_cpus = 0;
      n.gpu_free.assign(n.gpu_free.size(), false);
      st.running.push_back(std::move(r));
    }
  }
  Decisions Run() { return Schedule(st, {}); }
};

std::string Reason(const Decisions& d, JobId id) {
  for (const auto& [j, why] : d.reasons)
    if (j == id) return why;
  return "";
}

TEST(ModelOptions, RuntimeScalesFromTheSlowestAndCostIsRateTimesHours) {
  JobSpec s;
  s.gpus = 2;
  s.gpu_choice = GpuChoice::kFastest;
  GpuCatalog c = {{"k80", {1.0, 500000}}, {"v100", {4.0, 2500000}}, {"x", {0, 100}}};
  auto o = ModelOptions(s, 8 * kHour, {"k80", "v100", "x"}, c);
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0].model, "v100");  // 4x faster than k80: 2 h
  EXPECT_EQ(o[0].runtime_ms, 2 * kHour);
  EXPECT_DOUBLE_EQ(o[0].cost, 2500000.0 * 2 * 2);
  // Unknown speed counts as the slowest known: k80 and x run 8 h; the cheaper first.
  EXPECT_EQ(o[1].model, "x");
  EXPECT_EQ(o[2].model, "k80");
  EXPECT_EQ(o[2].runtime_ms, 8 * kHour);
  s.gpu_choice = GpuChoice::kCheapest;
  s.max_price_micro = 1000000;  // v100 is over the cap
  o = ModelOptions(s, 8 * kHour, {"k80", "v100", "x"}, c);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].model, "x");
  EXPECT_EQ(o[1].model, "k80");
  // Per-job speeds (a workload table) win over the catalog's; an unlimited runtime stays so.
  GpuSpeeds mine = {{"k80", 3.0}, {"v100", 1.0}};
  s.max_price_micro = 0;
  s.gpu_choice = GpuChoice::kFastest;
  o = ModelOptions(s, 0, {"k80", "v100"}, c, &mine);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].runtime_ms, 0);
  o = ModelOptions(s, 9 * kHour, {"k80", "v100"}, c, &mine);
  EXPECT_EQ(o[0].model, "k80");
  EXPECT_EQ(o[0].runtime_ms, 3 * kHour);
  // Alternatives narrow what it may take.
  s.gpu_model = "k80|p100";
  EXPECT_EQ(ModelOptions(s, kHour, {"k80", "v100"}, c).size(), 1u);
}

TEST(ModelOptions, OnlyJobsOfGpusWithoutOneModelChoose) {
  JobSpec s;
  s.gpu_choice = GpuChoice::kCheapest;
  EXPECT_FALSE(ChoosesModel(s));  // no GPUs
  s.gpus = 1;
  EXPECT_TRUE(ChoosesModel(s));
  s.gpu_model = "v100";
  EXPECT_FALSE(ChoosesModel(s));
  s.gpu_model = "v100|k80";
  EXPECT_TRUE(ChoosesModel(s));
  s.gpu_choice = GpuChoice::kAny;
  EXPECT_FALSE(ChoosesModel(s));
}

TEST(Choose, CheapestTakesTheCheapestModelThatMeetsItsConstraints) {
  Market m;
  m.Job(GpuChoice::kCheapest);
  Decisions d = m.Run();
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(Where(d.starts[0].alloc), "k[0]");
  // k80 is the cheapest per hour, and 8 h on it cost 4 (4.8 on a p100, 5 on a v100); 2 h on a
  // v100 at 1.5 would cost 3.
  m.st.gpu_catalog["v100"].micro_per_hour = 1500000;
  d = m.Run();
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(Where(d.starts[0].alloc), "v[0]");
  // A node of k80 that asks more than its rate takes no job, nor does one that serves other
  // accounts: the job goes to the next cheapest.
  m.st.gpu_catalog["v100"].micro_per_hour = 2500000;
  m.st.nodes[0].profile.terms.min_price_micro = 600000;
  d = m.Run();
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(Where(d.starts[0].alloc), "p[0]");
  m.st.nodes[0].profile.terms = {};
  m.st.nodes[0].profile.terms.accounts = {"lab"};
  EXPECT_EQ(Where(m.Run().starts.at(0).alloc), "p[0]");
  m.specs[0]->account = "lab";
  EXPECT_EQ(Where(m.Run().starts.at(0).alloc), "k[0]");
}

TEST(Choose, CheapestWaitsForItsModelRatherThanPayMore) {
  Market m;
  m.Busy("k", m.st.now + kHour);
  m.Job(GpuChoice::kCheapest);
  Decisions d = m.Run();
  EXPECT_TRUE(d.starts.empty());
  ASSERT_EQ(d.reservations.size(), 1u);
  EXPECT_EQ(d.reservations[0].start, m.st.now + kHour);
  EXPECT_EQ(Where(d.reservations[0].alloc), "k[0]");
}

TEST(Choose, FastestGoesWhereItFinishesSoonest) {
  Market m;
  // 8 h on a k80, 2 h on a v100: waiting an hour for the v100 finishes at 3 h, before the k80.
  m.Busy("v", m.st.now + kHour);
  m.Busy("p", m.st.now + 10 * kHour);
  m.Job(GpuChoice::kFastest);
  Decisions d = m.Run();
  EXPECT_TRUE(d.starts.empty());
  ASSERT_EQ(d.reservations.size(), 1u);
  EXPECT_EQ(Where(d.reservations[0].alloc), "v[0]");
  EXPECT_EQ(d.reservations[0].start, m.st.now + kHour);
  // Busy for 7 h, the v100 would finish at 9 h: the k80 now finishes at 8 h.
  m.st.running.clear();
  for (NodeView& n : m.st.nodes) n = NodeView::Idle(n.profile);
  m.Busy("v", m.st.now + 7 * kHour);
  m.Busy("p", m.st.now + 10 * kHour);
  d = m.Run();
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(Where(d.starts[0].alloc), "k[0]");
  // All free: the fastest, now.
  m.st.running.clear();
  for (NodeView& n : m.st.nodes) n = NodeView::Idle(n.profile);
  EXPECT_EQ(Where(m.Run().starts.at(0).alloc), "v[0]");
}

TEST(Choose, AJobNoOptionIsLeftToWaitsWithTheReasonNamed) {
  Market m;
  JobSpec& j = m.Job(GpuChoice::kCheapest);
  j.max_price_micro = 100000;
  Decisions d = m.Run();
  EXPECT_TRUE(d.starts.empty());
  EXPECT_EQ(Reason(d, 1),
            "ReqNodeNotAvail (terms): the cheapest model, k80, is 0.5/GPU-hour, over "
            "--max-price=0.1");
  // A plain job with a cap: nodes over it are passed over, and with none left it waits.
  JobSpec& plain = m.Job(GpuChoice::kAny);
  plain.max_price_micro = 1500000;
  m.Busy("k", m.st.now + kHour);
  d = m.Run();
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(d.starts[0].id, 2);
  EXPECT_EQ(Where(d.starts[0].alloc), "p[0]");
  plain.max_price_micro = 400000;
  d = m.Run();
  EXPECT_TRUE(d.starts.empty());
  EXPECT_EQ(Reason(d, 2), "ReqNodeNotAvail (terms): k80 costs 0.5/GPU-hour, over --max-price=0.4");
  // A node's longest job: one without a limit, or a longer one, is refused; CPU jobs too.
  m.st.pending.clear();
  for (NodeView& n : m.st.nodes) n.profile.terms.max_time_ms = 4 * kHour;
  JobSpec& cpu = m.Job(GpuChoice::kAny, 0, 0);
  d = m.Run();
  EXPECT_TRUE(d.starts.empty());
  EXPECT_EQ(Reason(d, 3),
            "ReqNodeNotAvail (terms): node k takes jobs of at most 04:00:00 (give -t)");
  cpu.time_limit_ms = 4 * kHour;
  EXPECT_EQ(m.Run().starts.size(), 1u);
}

TEST(Terms, OneFilterChecksBothSides) {
  NodeProfile n = GpuNode("n", "t4", 2).profile;
  GpuCatalog c = {{"t4", {1, 300000}}};
  JobSpec s;
  s.gpus = 1;
  EXPECT_EQ(RefusedBy(s, n, c), "");
  s.max_price_micro = 200000;
  EXPECT_NE(RefusedBy(s, n, c), "");
  s.max_price_micro = 300000;
  EXPECT_EQ(RefusedBy(s, n, c), "");
  n.terms.min_price_micro = 300001;
  EXPECT_EQ(RefusedBy(s, n, c), "node n asks at least 0.300001/GPU-hour; t4 is at 0.3");
  s.gpus = 0;  // a CPU job pays no GPU rate
  EXPECT_EQ(RefusedBy(s, n, c), "");
  n.terms.accounts = {"a", "b"};
  EXPECT_EQ(RefusedBy(s, n, c), "node n serves only accounts of its own (not none)");
  s.account = "b";
  EXPECT_EQ(RefusedBy(s, n, c), "");
  // A model not in the catalog is free: no cap refuses it, and any minimum does.
  s.gpus = 1;
  n.terms = {};
  EXPECT_EQ(RefusedBy(s, n, {}), "");
  n.terms.min_price_micro = 1;
  EXPECT_NE(RefusedBy(s, n, {}), "");
}

TEST(Price, ParsesDecimalsExactlyAndRefusesTheRest) {
  EXPECT_EQ(*ParsePrice("--max-price", "2.5"), 2500000);
  EXPECT_EQ(*ParsePrice("--max-price", "0.000001"), 1);
  EXPECT_EQ(*ParsePrice("--max-price", ".5"), 500000);
  EXPECT_EQ(*ParsePrice("--max-price", "7"), 7000000);
  EXPECT_EQ(*ParsePrice("--max-price", "1000000"), kMaxPriceMicro);
  for (const char* bad : {"", ".", "-1", "+1", "1e3", "0x10", "1.0000001", "2,5", " 1", "1 ",
                          "1000000.1", "99999999999999999999", "1..2", "nan", "inf"}) {
    Result<int64_t> r = ParsePrice("--max-price", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().rfind("--max-price=", 0), 0u) << r.status().message();
  }
  EXPECT_EQ(FormatPrice(2500000), "2.5");
  EXPECT_EQ(FormatPrice(35000), "0.035");
  EXPECT_EQ(FormatPrice(3000000), "3");
  EXPECT_EQ(FormatPrice(0), "0");
}

TEST(JobKind, GivenOrInferred) {
  JobSpec s;
  EXPECT_EQ(InferKind(s), JobKind::kBatch);
  s.gpus = 1;
  EXPECT_EQ(InferKind(s), JobKind::kInference);
  s.gpus = 4;
  EXPECT_EQ(InferKind(s), JobKind::kTraining);
  s.array_job_id = 7;
  EXPECT_EQ(InferKind(s), JobKind::kInference);
  s.array_job_id = 0;
  s.gpus = 1;
  s.het.push_back({1, 8, 1, 0, "", 0, 0});
  EXPECT_EQ(InferKind(s), JobKind::kRl);
  s.kind = JobKind::kTraining;
  EXPECT_EQ(InferKind(s), JobKind::kTraining);
  JobKind k;
  EXPECT_TRUE(ParseJobKind("rl", &k));
  EXPECT_FALSE(ParseJobKind("", &k));
  EXPECT_FALSE(ParseJobKind("RL", &k));
  GpuChoice c;
  EXPECT_TRUE(ParseGpuChoice("cheapest", &c));
  EXPECT_EQ(c, GpuChoice::kCheapest);
  EXPECT_FALSE(ParseGpuChoice("cheap", &c));
}

}  // namespace
}  // namespace corral::sched
