// The attach-time GPU check end to end in one process: the node's side (launcher/gpu_check.h)
// answers a challenge, the controller's side (sched/ctld/gpu_verify.h) checks the answer, and
// every way a report can be wrong is refused with a message naming the GPU and the reason.
#include "sched/ctld/gpu_verify.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "launcher/gpu_check.h"

namespace corral::ctld {
namespace {

NodeProfile TwoGpus() {
  NodeProfile p;
  p.name = "g1";
  p.cpus = 4;
  for (int i = 0; i < 2; ++i) {
    GpuDevice g;
    g.index = 100 + i;  // no device here at that ordinal: the CPU twin answers
    g.model = "h100";
    p.gpus.push_back(g);
  }
  return p;
}

VerifyPolicy Policy() {
  VerifyPolicy p;
  p.cpu_size = 48;
  p.samples = 12;
  return p;
}

class GpuVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    sent = MakeChallenge(Policy(), 0x1234, 0x5678);
    report = RunGpuChecks(sent, node);
    ASSERT_EQ(report.gpus_size(), 2);
  }
  // The reason a report is refused ("" when it passes).
  std::string Refusal(const v1::VerifyReport& r, bool allow = true) {
    auto out = CheckReport(sent, node, r, allow);
    if (out.ok()) return "";
    EXPECT_EQ(out.status().code(), Status::Code::kInvalid);
    return out.status().message();
  }

  NodeProfile node = TwoGpus();
  v1::GemmChallenge sent;
  v1::VerifyReport report;
};

TEST_F(GpuVerify, SimulatedGpusPassWhereAllowed) {
  auto out = CheckReport(sent, node, report, true);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(out->simulated);
  ASSERT_EQ(out->gpus.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(out->gpus[i].index(), i);
    EXPECT_EQ(out->gpus[i].engine(), "cpu");
    EXPECT_GT(out->gpus[i].tflops(), 0);
    EXPECT_EQ(report.gpus(i).size(), 48);
    EXPECT_EQ(report.gpus(i).sample_values_size(), 12);
  }
}

TEST_F(GpuVerify, SimulatedGpusFailWhereNotAllowed) {
  const std::string why = Refusal(report, false);
  EXPECT_NE(why.find("GPU 0 (h100) was checked on the CPU"), std::string::npos) << why;
}

TEST_F(GpuVerify, OneWrongEntryIsCaught) {
  for (int s = 0; s < 12; ++s) {
    v1::VerifyReport bad = report;
    bad.mutable_gpus(1)->set_sample_values(s, bad.gpus(1).sample_values(s) + 0.015625f);
    const std::string why = Refusal(bad);
    EXPECT_NE(why.find("GPU 1 (h100)"), std::string::npos) << why;
    EXPECT_NE(why.find("wrong result"), std::string::npos) << why;
  }
}

TEST_F(GpuVerify, AnswersToAnotherChallengeAreRefused) {
  v1::VerifyReport stale = report;
  stale.set_challenge(sent.challenge() + 1);
  EXPECT_NE(Refusal(stale).find("not the one sent"), std::string::npos);
  // Computed from another seed, under this challenge's number: the entries are wrong.
  v1::GemmChallenge other = sent;
  other.set_seed(sent.seed() + 1);
  v1::VerifyReport wrong_seed = RunGpuChecks(other, node);
  EXPECT_NE(Refusal(wrong_seed).find("expected"), std::string::npos);
}

TEST_F(GpuVerify, EveryDeclaredGpuExactlyOnce) {
  v1::VerifyReport missing = report;
  missing.mutable_gpus()->RemoveLast();
  EXPECT_NE(Refusal(missing).find("1 GPU checks for 2 declared GPUs"), std::string::npos);
  v1::VerifyReport twice = report;
  twice.mutable_gpus(1)->set_index(0);
  EXPECT_NE(Refusal(twice).find("GPU 0 (h100) is checked twice"), std::string::npos);
  for (int index : {-1, 2, 1 << 30}) {
    v1::VerifyReport unknown = report;
    unknown.mutable_gpus(1)->set_index(index);
    EXPECT_NE(Refusal(unknown).find("is not one of the node's 2"), std::string::npos) << index;
  }
  v1::VerifyReport empty;
  empty.set_challenge(sent.challenge());
  EXPECT_NE(Refusal(empty).find("0 GPU checks"), std::string::npos);
}

TEST_F(GpuVerify, ShapesAndFiguresMustBeTheOnesAskedFor) {
  v1::VerifyReport small = report;
  small.mutable_gpus(0)->set_engine("wmma");  // a GPU engine must run the GPU size
  EXPECT_NE(Refusal(small).find("asked for 4096 on a GPU"), std::string::npos) << Refusal(small);
  v1::VerifyReport odd = report;
  odd.mutable_gpus(0)->set_size(47);
  EXPECT_NE(Refusal(odd).find("ran size 47"), std::string::npos);
  for (double t : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    v1::VerifyReport r = report;
    r.mutable_gpus(0)->set_tflops(t);
    EXPECT_NE(Refusal(r).find("finite"), std::string::npos) << t;
  }
  v1::VerifyReport none = report;
  none.mutable_gpus(0)->set_iterations(0);
  EXPECT_NE(Refusal(none).find("finite"), std::string::npos);
}

TEST_F(GpuVerify, SamplesMustBeCompleteAndConsistent) {
  v1::VerifyReport fewer = report;
  auto* g = fewer.mutable_gpus(0);
  g->mutable_sample_rows()->RemoveLast();
  g->mutable_sample_cols()->RemoveLast();
  g->mutable_sample_values()->RemoveLast();
  EXPECT_NE(Refusal(fewer).find("11 sampled entries"), std::string::npos) << Refusal(fewer);
  v1::VerifyReport ragged = report;
  ragged.mutable_gpus(0)->mutable_sample_values()->RemoveLast();
  EXPECT_NE(Refusal(ragged).find("differ in number"), std::string::npos);
  v1::VerifyReport moved = report;
  moved.mutable_gpus(0)->set_sample_rows(0, moved.gpus(0).sample_rows(0) + 1);
  EXPECT_NE(Refusal(moved).find("the challenge asked for"), std::string::npos);
}

TEST_F(GpuVerify, ANodeThatCouldNotRunItsCheckFails) {
  v1::VerifyReport err = report;
  err.mutable_gpus(1)->set_error("cudaMalloc: out of memory");
  const std::string why = Refusal(err);
  EXPECT_NE(why.find("GPU 1 (h100): the check did not run: cudaMalloc: out of memory"),
            std::string::npos)
      << why;
}

TEST(GpuVerifyPolicy, RefusesSizesOutsideTheVerifiersLimits) {
  EXPECT_TRUE(ValidatePolicy(VerifyPolicy()).ok());
  auto bad = [](auto mutate, const std::string& option) {
    VerifyPolicy p;
    mutate(p);
    const Status st = ValidatePolicy(p);
    EXPECT_EQ(st.code(), Status::Code::kInvalid) << option;
    EXPECT_NE(st.message().find(option), std::string::npos) << st.message();
  };
  bad([](VerifyPolicy& p) { p.size = 0; }, "--verify-size");
  bad([](VerifyPolicy& p) { p.size = 65536; }, "--verify-size");
  bad([](VerifyPolicy& p) { p.cpu_size = 4096; }, "--verify-cpu-size");
  bad([](VerifyPolicy& p) { p.samples = 0; }, "--verify-samples");
  bad([](VerifyPolicy& p) { p.seconds = -1; }, "--verify-seconds");
  bad([](VerifyPolicy& p) { p.seconds = std::nan(""); }, "--verify-seconds");
  bad([](VerifyPolicy& p) { p.timeout_ms = 10; }, "--verify-timeout");
}

}  // namespace
}  // namespace corral::ctld
