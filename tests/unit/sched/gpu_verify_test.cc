// The attach-time GPU check end to end in one process: the node's side (launcher/gpu_check.h)
// commits to its products and opens the entries chosen afterwards; the controller's side
// (sched/ctld/gpu_verify.h) checks both answers. Every way an answer can be wrong, including a
// node that commits to a C it did not compute and then opens correct values, is refused with a
// message naming the GPU and the reason.
#include "sched/ctld/gpu_verify.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/gemm_commit.h"
#include "kernels/gemm_verify.h"
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
  p.cpu_size = 300;  // two leaves per row, the second partial
  p.samples = 12;
  return p;
}

class GpuVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    sent = MakeChallenge(Policy(), 0x1234, 0x5678);
    checks = std::make_unique<GpuChecks>(GpuChecks::Run(sent, node));
    report = checks->report();
    ASSERT_EQ(report.gpus_size(), 2);
    open.set_round(sent.round());
    open.set_challenge(0x9abc);
    opening = checks->Open(open);
    ASSERT_EQ(opening.gpus_size(), 2);
  }
  // Why the first answer is refused ("" when it passes).
  std::string CommitRefusal(const v1::VerifyReport& r, bool allow = true) {
    auto out = CheckCommitments(sent, node, r, allow);
    if (out.ok()) return "";
    EXPECT_EQ(out.status().code(), Status::Code::kInvalid);
    return out.status().message();
  }
  // Why the second answer is refused, against `committed`.
  std::string OpenRefusal(const v1::VerifyOpening& o, const v1::VerifyReport* committed = nullptr) {
    Status st = CheckOpenings(sent, node, committed ? *committed : report, open.challenge(), o);
    if (st.ok()) return "";
    EXPECT_EQ(st.code(), Status::Code::kInvalid);
    return st.message();
  }

  NodeProfile node = TwoGpus();
  v1::GemmChallenge sent;
  std::unique_ptr<GpuChecks> checks;
  v1::VerifyReport report;
  v1::GemmOpen open;
  v1::VerifyOpening opening;
};

TEST_F(GpuVerify, AnHonestNodePassesBothRounds) {
  auto out = CheckCommitments(sent, node, report, true);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(out->simulated);
  ASSERT_EQ(out->gpus.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(out->gpus[i].index(), i);
    EXPECT_EQ(out->gpus[i].engine(), "cpu");
    EXPECT_GT(out->gpus[i].tflops(), 0);
    EXPECT_EQ(report.gpus(i).size(), 300);
    EXPECT_EQ(report.gpus(i).root().size(), 32u);
    EXPECT_EQ(opening.gpus(i).leaves_size(), 12);
  }
  EXPECT_EQ(OpenRefusal(opening), "");
}

TEST_F(GpuVerify, SimulatedGpusFailWhereNotAllowed) {
  const std::string why = CommitRefusal(report, false);
  EXPECT_NE(why.find("GPU 0 (h100) was checked on the CPU"), std::string::npos) << why;
}

// A node that commits to C with one wrong entry is caught when that entry is opened; one that
// commits to nothing it computed and then opens the right values is caught by the root.
TEST_F(GpuVerify, ForgedProductsAreCaughtAtOpening) {
  kernels::GemmSpec spec;
  spec.m = spec.n = spec.k = 300;
  spec.seed = sent.seed();
  spec.challenge = open.challenge();
  spec.samples = sent.samples();
  const auto positions = kernels::SamplePositions(spec);
  const std::vector<float> right = kernels::GemmCpu(spec);
  // Commits to `c` for GPU 1 (GPU 0 stays honest) and opens every sample from `shown`.
  auto forge = [&](const std::vector<float>& c, const std::vector<float>& shown) {
    const kernels::GemmCommitment tree = kernels::GemmCommitment::Build(c.data(), 300, 300);
    const kernels::GemmCommitment shown_tree =
        kernels::GemmCommitment::Build(shown.data(), 300, 300);
    v1::VerifyReport r = report;
    r.mutable_gpus(1)->set_root(std::string(tree.root().begin(), tree.root().end()));
    v1::VerifyOpening o = opening;
    auto* g = o.mutable_gpus(1);
    g->clear_leaves();
    for (const auto& [row, col] : positions) {
      // The path is the committed tree's; the values are what the node wants to show.
      kernels::LeafOpening leaf = tree.Open(c.data(), row, col);
      leaf.values = shown_tree.Open(shown.data(), row, col).values;
      auto* l = g->add_leaves();
      l->set_leaf(leaf.leaf);
      for (float v : leaf.values) l->add_values(v);
      for (const auto& h : leaf.path) l->add_path(std::string(h.begin(), h.end()));
    }
    EXPECT_EQ(CommitRefusal(r), "");  // a commitment alone proves nothing yet
    return OpenRefusal(o, &r);
  };
  std::vector<float> one_wrong = right;
  one_wrong[static_cast<size_t>(positions[5].first * 300 + positions[5].second)] += 0.015625f;
  std::string why = forge(one_wrong, one_wrong);
  EXPECT_NE(why.find("GPU 1 (h100)"), std::string::npos) << why;
  EXPECT_NE(why.find("wrong result"), std::string::npos) << why;
  const std::vector<float> nothing(right.size(), 0.0f);
  why = forge(nothing, right);
  EXPECT_NE(why.find("does not lead to the committed root"), std::string::npos) << why;
  EXPECT_EQ(forge(right, right), "");  // the forger's harness itself is sound
}

TEST_F(GpuVerify, OpeningsMustAnswerTheRoundForEveryCommittedGpu) {
  v1::VerifyOpening other = opening;
  other.set_round(sent.round() + 1);
  EXPECT_NE(OpenRefusal(other).find("not the one open"), std::string::npos);
  v1::VerifyOpening missing = opening;
  missing.mutable_gpus()->RemoveLast();
  EXPECT_NE(OpenRefusal(missing).find("1 GPUs opened, 2 committed"), std::string::npos);
  v1::VerifyOpening twice = opening;
  twice.mutable_gpus(1)->set_index(0);
  EXPECT_NE(OpenRefusal(twice).find("opened twice"), std::string::npos);
  v1::VerifyOpening unknown = opening;
  unknown.mutable_gpus(1)->set_index(7);
  EXPECT_NE(OpenRefusal(unknown).find("was not committed"), std::string::npos);
  v1::VerifyOpening fewer = opening;
  fewer.mutable_gpus(0)->mutable_leaves()->RemoveLast();
  EXPECT_NE(OpenRefusal(fewer).find("11 leaves opened"), std::string::npos);
  // A leaf moved to another sample's place is the wrong leaf for that entry.
  v1::VerifyOpening moved = opening;
  moved.mutable_gpus(0)->mutable_leaves()->SwapElements(0, 1);
  EXPECT_NE(OpenRefusal(moved).find("opening: leaf"), std::string::npos) << OpenRefusal(moved);
  v1::VerifyOpening bad_hash = opening;
  bad_hash.mutable_gpus(0)->mutable_leaves(0)->set_path(0, "short");
  EXPECT_NE(OpenRefusal(bad_hash).find("not 32 bytes"), std::string::npos);
  v1::VerifyOpening flipped = opening;
  std::string h = flipped.gpus(0).leaves(0).path(0);
  h[0] = static_cast<char>(h[0] ^ 1);
  flipped.mutable_gpus(0)->mutable_leaves(0)->set_path(0, h);
  EXPECT_NE(OpenRefusal(flipped).find("does not lead"), std::string::npos);
}

TEST_F(GpuVerify, EveryDeclaredGpuCommitsExactlyOnce) {
  v1::VerifyReport stale = report;
  stale.set_round(sent.round() + 1);
  EXPECT_NE(CommitRefusal(stale).find("not the one sent"), std::string::npos);
  v1::VerifyReport missing = report;
  missing.mutable_gpus()->RemoveLast();
  EXPECT_NE(CommitRefusal(missing).find("1 GPU checks for 2 declared GPUs"), std::string::npos);
  v1::VerifyReport twice = report;
  twice.mutable_gpus(1)->set_index(0);
  EXPECT_NE(CommitRefusal(twice).find("GPU 0 (h100) is checked twice"), std::string::npos);
  for (int index : {-1, 2, 1 << 30}) {
    v1::VerifyReport unknown = report;
    unknown.mutable_gpus(1)->set_index(index);
    EXPECT_NE(CommitRefusal(unknown).find("is not one of the node's 2"), std::string::npos)
        << index;
  }
  v1::VerifyReport empty;
  empty.set_round(sent.round());
  EXPECT_NE(CommitRefusal(empty).find("0 GPU checks"), std::string::npos);
  v1::VerifyReport err = report;
  err.mutable_gpus(1)->set_error("cudaMalloc: out of memory");
  EXPECT_NE(CommitRefusal(err).find("GPU 1 (h100): the check did not run: cudaMalloc"),
            std::string::npos);
}

TEST_F(GpuVerify, ShapesFiguresAndRootsMustBeTheOnesAskedFor) {
  v1::VerifyReport small = report;
  small.mutable_gpus(0)->set_engine("wmma");  // a GPU engine must run the GPU size
  EXPECT_NE(CommitRefusal(small).find("asked for 4096 on a GPU"), std::string::npos);
  v1::VerifyReport odd = report;
  odd.mutable_gpus(0)->set_size(47);
  EXPECT_NE(CommitRefusal(odd).find("ran size 47"), std::string::npos);
  for (double t : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    v1::VerifyReport r = report;
    r.mutable_gpus(0)->set_tflops(t);
    EXPECT_NE(CommitRefusal(r).find("finite"), std::string::npos) << t;
  }
  v1::VerifyReport none = report;
  none.mutable_gpus(0)->set_iterations(0);
  EXPECT_NE(CommitRefusal(none).find("finite"), std::string::npos);
  v1::VerifyReport rootless = report;
  rootless.mutable_gpus(1)->clear_root();
  EXPECT_NE(CommitRefusal(rootless).find("32-byte root"), std::string::npos);
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
  bad([](VerifyPolicy& p) { p.slack_ms = -1; }, "--verify-slack");
  bad([](VerifyPolicy& p) { p.recheck_ms = -1; }, "--verify-every");
  bad([](VerifyPolicy& p) { p.floor_fraction = 1.5; }, "--verify-floor");
  bad([](VerifyPolicy& p) { p.floor_fraction = std::nan(""); }, "--verify-floor");
  bad([](VerifyPolicy& p) { p.gbps_floor_fraction = -0.1; }, "--verify-bandwidth-floor");
}

}  // namespace
}  // namespace corral::ctld
