// The replay (sched/sim/replay.h): exact start times per policy on small traces, limits and
// unknown estimates, jobs that never run, the machine a header gives, and, on the Lublin trace
// when it is there, every job accounted for with EASY's slowdown below FCFS's.
#include "sched/sim/replay.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <tuple>

#include "sched/sim/trace.h"
#include "sched/sim/windows.h"

namespace corral::sim {
namespace {

// An SWF line: id, submit, run, procs, requested time; the other fields unknown.
std::string Line(int id, int submit, int run, int procs, int req) {
  return std::to_string(id) + " " + std::to_string(submit) + " -1 " + std::to_string(run) + " " +
         std::to_string(procs) + " -1 -1 " + std::to_string(procs) + " " + std::to_string(req) +
         " -1 1 1 1 -1 -1 -1 -1 -1\n";
}

// A job of the replay's own form (designated initializers would leave its strings out).
SimJob Job(int64_t id, int64_t submit, int64_t run, int32_t procs, int64_t req = -1,
           int32_t gpus = 0, std::string model = "", int32_t milli = 1000) {
  SimJob j;
  j.id = id, j.submit_s = submit, j.run_s = run, j.procs = procs, j.req_time_s = req;
  j.gpus = gpus, j.gpu_model = std::move(model), j.gpu_milli = milli;
  return j;
}

Workload Parse(const std::string& text) {
  Result<SwfTrace> t = ParseSwf(text, SwfOptions{});
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? FromSwf(*t) : Workload{};
}

std::vector<int64_t> Starts(const Workload& t, sched::BackfillMode mode) {
  ReplayOptions o;
  o.mode = mode;
  o.check = true;
  Result<ReplayResult> r = Replay(t, MachineOf(t), o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  std::vector<int64_t> out;
  if (!r.ok()) return out;
  EXPECT_EQ(r->summary.violations, 0) << r->summary.violation_examples[0];
  for (const JobOutcome& j : r->jobs) out.push_back(j.start_s);
  return out;
}

// 4 one-CPU nodes. Job 1 holds two until 100; job 2 needs all four; job 3 is short and fits
// beside job 1 now; job 4 is long and would delay job 2.
const std::string kFour = "; MaxNodes: 4\n" + Line(1, 0, 100, 2, 100) + Line(2, 1, 100, 4, 100) +
                          Line(3, 2, 10, 2, 10) + Line(4, 3, 200, 2, 200);

TEST(Replay, ExactStartsPerPolicy) {
  const Workload t = Parse(kFour);
  using M = sched::BackfillMode;
  EXPECT_EQ(Starts(t, M::kFcfs), (std::vector<int64_t>{0, 100, 200, 200}));
  EXPECT_EQ(Starts(t, M::kEasy), (std::vector<int64_t>{0, 100, 2, 200}));
  EXPECT_EQ(Starts(t, M::kConservative), (std::vector<int64_t>{0, 100, 2, 200}));
}

TEST(Replay, SummaryMeasures) {
  const Workload t = Parse(kFour);
  ReplayOptions o;
  o.mode = sched::BackfillMode::kEasy;
  Result<ReplayResult> r = Replay(t, MachineOf(t), o);
  ASSERT_TRUE(r.ok());
  const Summary& s = r->summary;
  EXPECT_EQ(s.jobs, 4);
  EXPECT_EQ(s.ran, 4);
  // Waits 0, 99, 0, 197.
  EXPECT_DOUBLE_EQ(s.mean_wait_s, (0 + 99 + 0 + 197) / 4.0);
  EXPECT_DOUBLE_EQ(s.median_wait_s, 0);
  EXPECT_DOUBLE_EQ(s.p95_wait_s, 197);
  // Bounded slowdowns 1, 199/100, 1, 397/200.
  EXPECT_DOUBLE_EQ(s.mean_bounded_slowdown, (1 + 1.99 + 1 + 1.985) / 4);
  EXPECT_EQ(s.makespan_s, 400);  // job 4 runs 200..400
  // 2x100 + 4x100 + 2x10 + 2x200 = 1020 CPU-seconds over 400 s x 4 CPUs.
  EXPECT_DOUBLE_EQ(s.utilization, 1020.0 / 1600.0);
  EXPECT_DOUBLE_EQ(s.mean_jct_s, (100 + 199 + 10 + 397) / 4.0);
}

TEST(Replay, LimitsUnknownEstimatesAndJobsThatNeverRun) {
  const Workload t = Parse("; MaxNodes: 4\n" + Line(1, 0, 50, 1, 20) + Line(2, 0, 30, 1, -1) +
                           Line(3, 0, 0, 1, 5) + Line(4, 0, 10, 8, 10));
  ReplayOptions o;
  o.check = true;
  Result<ReplayResult> r = Replay(t, MachineOf(t), o);
  ASSERT_TRUE(r.ok());
  const auto& j = r->jobs;
  EXPECT_EQ(j[0].run_s, 20) << "cut at its limit";
  EXPECT_EQ(j[0].end_s, 20);
  EXPECT_EQ(j[1].limit_s, 30) << "no estimate: its run time";
  EXPECT_EQ(j[2].start_s, 0);
  EXPECT_EQ(j[2].end_s, 0) << "a job of no run time ends as it starts";
  EXPECT_EQ(j[3].start_s, -1) << "wider than the machine";
  EXPECT_EQ(j[3].never_ran.rfind("infeasible: ", 0), 0u) << j[3].never_ran;
  EXPECT_EQ(r->summary.cut_at_limit, 1);
  EXPECT_EQ(r->summary.limit_from_runtime, 1);
  EXPECT_EQ(r->summary.ran, 3);
  EXPECT_EQ(r->summary.never_ran.size(), 1u);
  EXPECT_EQ(r->summary.violations, 0);
}

TEST(Replay, TheMachineFromTheHeader) {
  Workload t;
  t.max_nodes = 100, t.max_procs = 400;
  EXPECT_EQ(MachineOf(t).Nodes(), 100);
  EXPECT_EQ(MachineOf(t).MaxCpusPerNode(), 4);
  t.max_procs = -1;
  EXPECT_EQ(MachineOf(t).MaxCpusPerNode(), 1);
  t.max_nodes = -1, t.max_procs = 64;
  EXPECT_EQ(MachineOf(t).Nodes(), 64);
  t.max_procs = -1;
  t.jobs = {Job(1, 0, 0, 12)};
  EXPECT_EQ(MachineOf(t).Nodes(), 12);
  EXPECT_NE(MachineOf(t).source.find("widest"), std::string::npos);
  EXPECT_FALSE(Replay(t, Machine::Uniform(0, 1), ReplayOptions{}).ok());
  EXPECT_FALSE(Replay(t, Machine::Uniform(2000000, 1), ReplayOptions{}).ok());
}

// Two 4-GPU nodes of different models. Job 1 takes a v100 node's 4 GPUs until 100; job 2 wants
// 2 v100 and waits for them (the t4 node does not do); job 3 takes any 2 GPUs now (the t4
// node); job 4 asks for a model the machine lacks and never runs.
TEST(Replay, GpuJobsOnAMachineOfTwoModels) {
  Machine m;
  m.groups = {NodeGroup{1, 16, 0, 4, "v100"}, NodeGroup{1, 16, 0, 4, "t4"}};
  Workload w;
  w.jobs = {Job(1, 0, 100, 4, -1, 4, "v100"), Job(2, 1, 50, 2, -1, 2, "v100"),
            Job(3, 2, 10, 2, -1, 2), Job(4, 3, 10, 1, -1, 1, "h100"),
            Job(5, 4, 10, 1, -1, 1, "", 250)};
  ReplayOptions o;
  o.check = true;
  Result<ReplayResult> r = Replay(w, m, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& j = r->jobs;
  EXPECT_EQ(j[0].start_s, 0);
  EXPECT_EQ(j[1].start_s, 100) << "waits for the v100 node";
  EXPECT_EQ(j[2].start_s, 2) << "any model: the t4 node";
  EXPECT_EQ(j[3].start_s, -1);
  EXPECT_NE(j[3].never_ran.find("h100"), std::string::npos) << j[3].never_ran;
  EXPECT_EQ(j[4].start_s, 4) << "a quarter GPU gets a quarter of a t4";
  EXPECT_EQ(j[4].gpu_milli, 250);
  EXPECT_EQ(r->summary.fractional_rounded, 0);
  EXPECT_EQ(r->summary.violations, 0);
  // GPU-seconds 400 + 100 + 20 + 2.5 over 8 GPUs x 150 s (0..150).
  EXPECT_EQ(r->summary.makespan_s, 150);
  EXPECT_DOUBLE_EQ(r->summary.gpu_utilization, 522.5 / 1200.0);

  o.share_gpus = false;  // as Slurm: a whole GPU for the quarter
  r = Replay(w, m, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->jobs[4].start_s, 4);
  EXPECT_EQ(r->jobs[4].gpu_milli, 0);
  EXPECT_EQ(r->summary.fractional_rounded, 1);
  EXPECT_DOUBLE_EQ(r->summary.gpu_utilization, 530.0 / 1200.0);
}

// Four quarter-GPU jobs share one GPU of a one-GPU node, and a fifth waits for a quarter to come
// back; a whole-GPU job waits for all four.
TEST(Replay, SharesOfOneGpuRunTogether) {
  Machine m;
  m.groups = {NodeGroup{1, 16, 0, 1, "t4"}};
  Workload w;
  for (int k = 0; k < 5; ++k) w.jobs.push_back(Job(k + 1, 0, 100 + 10 * k, 1, -1, 1, "", 250));
  w.jobs.push_back(Job(6, 1, 10, 1, -1, 1));
  ReplayOptions o;
  o.check = true;
  o.mode = sched::BackfillMode::kFcfs;
  Result<ReplayResult> r = Replay(w, m, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& j = r->jobs;
  for (int k = 0; k < 4; ++k) EXPECT_EQ(j[k].start_s, 0) << k;
  EXPECT_EQ(j[4].start_s, 100) << "the first quarter back";
  EXPECT_EQ(j[5].start_s, 240) << "the whole GPU once every share has ended";
  EXPECT_EQ(r->summary.violations, 0);
}

// Jobs already running hold the machine: a 4-node job waits for the prefilled ones to end,
// and they are not measured.
TEST(Replay, PrefilledJobsHoldTheMachineAndAreNotMeasured) {
  Workload w;
  w.jobs = {Job(1, 100, 10, 4, 10)};
  ReplayOptions o;
  o.check = true;
  o.prefill = {PrefillJob{Job(0, 0, 0, 2), 0, 130, 150}, PrefillJob{Job(0, 0, 0, 2), 50, 120, 120},
               PrefillJob{Job(0, 0, 0, 1), 90, 200, 200}};  // no room left: left out
  Result<ReplayResult> r = Replay(w, Machine::Uniform(4, 1), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->prefill_placed, 2);
  EXPECT_EQ(r->prefill_left_out, 1);
  ASSERT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->jobs[0].start_s, 130);
  EXPECT_EQ(r->summary.jobs, 1);
  EXPECT_EQ(r->summary.violations, 0);
}

TEST(Replay, SamplesFollowTheBusyShareAndTheQueue) {
  const Workload t = Parse(kFour);
  std::vector<std::tuple<int64_t, double, int64_t>> got;
  ReplayOptions o;
  o.mode = sched::BackfillMode::kFcfs;
  o.sample = [&](int64_t s, double busy, int64_t q) { got.emplace_back(s, busy, q); };
  ASSERT_TRUE(Replay(t, MachineOf(t), o).ok());
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(got[0], std::make_tuple(int64_t{0}, 0.5, int64_t{0}));
  EXPECT_EQ(got[1], std::make_tuple(int64_t{1}, 0.5, int64_t{1})) << "job 2 waits";
  EXPECT_EQ(got[3], std::make_tuple(int64_t{3}, 0.5, int64_t{3}));
  EXPECT_EQ(got[4], std::make_tuple(int64_t{100}, 1.0, int64_t{2})) << "job 2 runs";
}

Workload Synthetic(int n) {
  Workload w;
  for (int i = 0; i < n; ++i) {
    w.jobs.push_back(Job(i + 1, i * 10, 5 + (i * 37) % 200, 1 + (i * 7) % 4, 300));
  }
  return w;
}

TEST(Windows, SameSeedSameWindowsAndEachWindowIsContiguous) {
  const Workload w = Synthetic(100);
  WindowOptions o;
  o.count = 5;
  o.size = 20;
  Result<std::vector<Window>> a = SampleWindows(w, o), b = SampleWindows(w, o);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 5u);
  for (size_t k = 0; k < 5; ++k) {
    const Window& x = (*a)[k];
    EXPECT_EQ(x.first, (*b)[k].first);
    EXPECT_GE(x.first, 20u);
    EXPECT_LE(x.first + 20, 99u);
    ASSERT_EQ(x.jobs.jobs.size(), 20u);
    for (size_t i = 0; i < 20; ++i) EXPECT_EQ(x.jobs.jobs[i].id, int64_t(x.first + i + 1));
    const int64_t begin = x.jobs.jobs[0].submit_s;
    for (const PrefillJob& p : x.prefill) {
      EXPECT_LT(p.job.id, x.jobs.jobs[0].id) << "from before the window";
      EXPECT_LE(p.start_s, begin);
      EXPECT_GT(p.end_s, begin) << "still running when it begins";
      EXPECT_EQ(p.end_s - p.start_s, 300) << "runs its requested time";
    }
  }
  o.seed = 2;
  Result<std::vector<Window>> c = SampleWindows(w, o);
  ASSERT_TRUE(c.ok());
  bool differ = false;
  for (size_t k = 0; k < 5; ++k) differ = differ || (*c)[k].first != (*a)[k].first;
  EXPECT_TRUE(differ);
}

TEST(Windows, BadSizesAreRefused) {
  const Workload w = Synthetic(30);
  WindowOptions o;
  o.size = 20;
  Result<std::vector<Window>> r = SampleWindows(w, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--window-jobs"), std::string::npos);
  o.size = 5;
  o.count = 0;
  EXPECT_FALSE(SampleWindows(w, o).ok());
  o.count = 1;
  o.size = 0;
  EXPECT_FALSE(SampleWindows(w, o).ok());
}

std::string Traces() {
  if (const char* e = std::getenv("CORRAL_TRACES")) return e;
  return std::string(CORRAL_SOURCE_DIR) + "/../shared/data/traces";
}

TEST(Replay, LublinEveryJobAccountedForAndEasyBeatsFcfs) {
  const std::string path = Traces() + "/lublin_256.swf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not there";
  Result<Workload> t = ReadTrace(path, TraceOptions{});
  ASSERT_TRUE(t.ok()) << t.status().message();
  double bsld[2] = {0, 0};
  int k = 0;
  for (sched::BackfillMode mode : {sched::BackfillMode::kFcfs, sched::BackfillMode::kEasy}) {
    ReplayOptions o;
    o.mode = mode;
    o.check = true;
    Result<ReplayResult> r = Replay(*t, MachineOf(*t), o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->summary.violations, 0);
    EXPECT_EQ(r->summary.jobs, static_cast<int64_t>(t->jobs.size()));
    int64_t never = 0;
    for (const auto& [why, n] : r->summary.never_ran) never += n;
    EXPECT_EQ(r->summary.ran + never, r->summary.jobs);
    bsld[k++] = r->summary.mean_bounded_slowdown;
  }
  EXPECT_LT(bsld[1], bsld[0]) << "EASY " << bsld[1] << " vs FCFS " << bsld[0];
}

// Keeping the profile from pass to pass changes nothing but the speed: every job starts at the
// same time on the same policy, on a trace when there is one and on a synthetic load.
TEST(Replay, ReusedProfileGivesTheSameReplay) {
  std::vector<Workload> loads = {Synthetic(400)};
  const std::string path = Traces() + "/lublin_256.swf";
  if (std::filesystem::exists(path)) {
    Result<Workload> t = ReadTrace(path, TraceOptions{});
    ASSERT_TRUE(t.ok()) << t.status().message();
    t->jobs.resize(std::min<size_t>(t->jobs.size(), 1200));
    loads.push_back(std::move(*t));
  }
  for (const Workload& w : loads) {
    const Machine m = w.format == "swf" ? MachineOf(w) : Machine::Uniform(6, 4);
    for (sched::BackfillMode mode : {sched::BackfillMode::kFcfs, sched::BackfillMode::kEasy,
                                     sched::BackfillMode::kConservative}) {
      std::vector<int64_t> starts[2];
      for (int reuse = 0; reuse < 2; ++reuse) {
        ReplayOptions o;
        o.mode = mode;
        o.check = true;
        o.reuse_profile = reuse == 1;
        Result<ReplayResult> r = Replay(w, m, o);
        ASSERT_TRUE(r.ok()) << r.status().message();
        EXPECT_EQ(r->summary.violations, 0);
        for (const JobOutcome& j : r->jobs) starts[reuse].push_back(j.start_s);
        if (reuse == 1) {
          EXPECT_GT(r->profile_reuses, 0);
          EXPECT_EQ(r->profile_builds, 1) << "the cache never disagreed with the replay";
        }
      }
      EXPECT_EQ(starts[0], starts[1]) << BackfillModeName(mode) << " on " << w.format;
    }
  }
}

// Fair share: a light user's job overtakes a heavy user's queue once the heavy user has usage;
// by age alone it waits behind all of it.
TEST(Replay, FairShareLetsALightUserOvertake) {
  Workload w;
  for (int i = 0; i < 4; ++i) w.jobs.push_back(Job(i + 1, i, 100, 1, 100));
  w.jobs.push_back(Job(5, 4, 100, 1, 100));
  for (SimJob& j : w.jobs) j.user = j.id == 5 ? 2 : 1;
  for (sched::BackfillMode mode :
       {sched::BackfillMode::kEasy, sched::BackfillMode::kConservative}) {
    int64_t light[2];
    for (int fair = 0; fair < 2; ++fair) {
      ReplayOptions o;
      o.mode = mode;
      o.fairshare = fair == 1;
      o.check = true;
      Result<ReplayResult> r = Replay(w, Machine::Uniform(1, 1), o);
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(r->summary.violations, 0);
      EXPECT_EQ(r->jobs[0].start_s, 0);
      light[fair] = r->jobs[4].start_s;
    }
    EXPECT_EQ(light[0], 400) << BackfillModeName(mode) << ": by age, behind every job of user 1";
    EXPECT_EQ(light[1], 100) << BackfillModeName(mode) << ": first once user 1 has usage";
  }
}

}  // namespace
}  // namespace corral::sim
