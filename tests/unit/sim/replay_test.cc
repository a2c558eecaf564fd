// The replay (sched/sim/replay.h): exact start times per policy on small traces, limits and
// unknown estimates, jobs that never run, the machine a header gives, and, on the Lublin trace
// when it is there, every job accounted for with EASY's slowdown below FCFS's.
#include "sched/sim/replay.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace corral::sim {
namespace {

// An SWF line: id, submit, run, procs, requested time; the other fields unknown.
std::string Line(int id, int submit, int run, int procs, int req) {
  return std::to_string(id) + " " + std::to_string(submit) + " -1 " + std::to_string(run) + " " +
         std::to_string(procs) + " -1 -1 " + std::to_string(procs) + " " + std::to_string(req) +
         " -1 1 1 1 -1 -1 -1 -1 -1\n";
}

SwfTrace Parse(const std::string& text) {
  Result<SwfTrace> t = ParseSwf(text, SwfOptions{});
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : SwfTrace{};
}

std::vector<int64_t> Starts(const SwfTrace& t, sched::BackfillMode mode) {
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
  const SwfTrace t = Parse(kFour);
  using M = sched::BackfillMode;
  EXPECT_EQ(Starts(t, M::kFcfs), (std::vector<int64_t>{0, 100, 200, 200}));
  EXPECT_EQ(Starts(t, M::kEasy), (std::vector<int64_t>{0, 100, 2, 200}));
  EXPECT_EQ(Starts(t, M::kConservative), (std::vector<int64_t>{0, 100, 2, 200}));
}

TEST(Replay, SummaryMeasures) {
  const SwfTrace t = Parse(kFour);
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
  const SwfTrace t = Parse("; MaxNodes: 4\n" + Line(1, 0, 50, 1, 20) + Line(2, 0, 30, 1, -1) +
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
  EXPECT_EQ(j[3].never_ran.rfind("ReqNodeNotAvail", 0), 0u) << j[3].never_ran;
  EXPECT_EQ(r->summary.cut_at_limit, 1);
  EXPECT_EQ(r->summary.limit_from_runtime, 1);
  EXPECT_EQ(r->summary.ran, 3);
  EXPECT_EQ(r->summary.never_ran.size(), 1u);
  EXPECT_EQ(r->summary.violations, 0);
}

TEST(Replay, TheMachineFromTheHeader) {
  SwfTrace t;
  t.max_nodes = 100, t.max_procs = 400;
  EXPECT_EQ(MachineOf(t).nodes, 100);
  EXPECT_EQ(MachineOf(t).cpus_per_node, 4);
  t.max_procs = -1;
  EXPECT_EQ(MachineOf(t).cpus_per_node, 1);
  t.max_nodes = -1, t.max_procs = 64;
  EXPECT_EQ(MachineOf(t).nodes, 64);
  t.max_procs = -1;
  t.jobs = {SwfJob{.id = 1, .procs = 12}};
  EXPECT_EQ(MachineOf(t).nodes, 12);
  EXPECT_NE(MachineOf(t).source.find("widest"), std::string::npos);
  EXPECT_FALSE(Replay(t, Machine{0, 1, ""}, ReplayOptions{}).ok());
}

std::string Traces() {
  if (const char* e = std::getenv("CORRAL_TRACES")) return e;
  return std::string(CORRAL_SOURCE_DIR) + "/../shared/data/traces";
}

TEST(Replay, LublinEveryJobAccountedForAndEasyBeatsFcfs) {
  const std::string path = Traces() + "/lublin_256.swf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not there";
  Result<SwfTrace> t = ReadSwf(path, SwfOptions{});
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

}  // namespace
}  // namespace corral::sim
