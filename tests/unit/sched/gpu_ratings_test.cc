// GPU models' ratings, how a node's model name finds one, and the judgment of a check's speeds.
#include "sched/ctld/gpu_ratings.h"

#include <gtest/gtest.h>

namespace corral::ctld {
namespace {

TEST(GpuRatings, ModelNamesFindTheirRating) {
  struct Case {
    const char* reported;
    const char* rated;  // nullptr: none
  };
  const Case cases[] = {
      {"h100", "h100"},
      {"NVIDIA H100 80GB HBM3", "h100"},
      {"NVIDIA H100 PCIe", "h100 pcie"},
      {"h100-pcie", "h100 pcie"},
      {"NVIDIA H100 NVL", "h100 nvl"},
      {"NVIDIA H200", "h200"},
      {"NVIDIA A100-SXM4-80GB", "a100"},
      {"NVIDIA A10", "a10"},
      {"Tesla T4", "t4"},
      {"Tesla V100-SXM2-32GB", "v100"},
      {"NVIDIA L40S", "l40s"},
      {"NVIDIA L40", "l40"},
      {"NVIDIA L4", "l4"},
      {"NVIDIA GeForce RTX 4090", "rtx 4090"},
      {"b200", nullptr},
      {"a1000", nullptr},
      {"", nullptr},
      {"h1000", nullptr},
  };
  for (const Case& k : cases) {
    const GpuRating* r = RatingOf(k.reported);
    if (!k.rated) {
      EXPECT_EQ(r, nullptr) << k.reported << " -> " << (r ? r->model : "");
      continue;
    }
    ASSERT_NE(r, nullptr) << k.reported;
    EXPECT_STREQ(r->model, k.rated) << k.reported;
  }
  for (const GpuRating& r : GpuRatings()) {
    EXPECT_GT(r.tflops_low, 0) << r.model;
    EXPECT_LE(r.tflops_low, r.tflops_high) << r.model;
    EXPECT_LE(r.gbps_low, r.gbps_high) << r.model;
    EXPECT_NE(std::string(r.source).find("NVIDIA"), std::string::npos) << r.model;
  }
}

NodeProfile Node(const std::vector<std::string>& models) {
  NodeProfile p;
  p.name = "n";
  for (size_t i = 0; i < models.size(); ++i) {
    GpuDevice g;
    g.index = static_cast<int32_t>(i);
    g.model = models[i];
    p.gpus.push_back(g);
  }
  return p;
}

v1::GpuCheckResult Result(int32_t index, double tflops, double gbps, std::string engine = "wmma") {
  v1::GpuCheckResult r;
  r.set_index(index);
  r.set_tflops(tflops);
  r.set_gbps(gbps);
  r.set_engine(engine);
  return r;
}

TEST(GpuRatings, SpeedsAreHeldToTheClaimedModel) {
  const NodeProfile n = Node({"h100", "t4"});
  EXPECT_TRUE(JudgeSpeeds(n, {Result(0, 400, 2500), Result(1, 30, 300)}).failed.empty());
  EXPECT_TRUE(JudgeSpeeds(n, {Result(0, 400, 2500), Result(1, 30, 300)}).unverified.empty());

  SpeedJudgment j = JudgeSpeeds(n, {Result(0, 400, 2500), Result(1, 1.2, 300)});
  EXPECT_TRUE(j.failed.empty());
  EXPECT_NE(j.unverified.find("GPU 1 (t4): 1.2 TFLOP/s measured, under 3.25"), std::string::npos)
      << j.unverified;
  j = JudgeSpeeds(n, {Result(0, 400, 100)});
  EXPECT_NE(j.unverified.find("GPU 0 (h100): 100 GB/s measured, under 500"), std::string::npos)
      << j.unverified;
  j = JudgeSpeeds(n, {Result(0, 2000, 2500)});
  EXPECT_NE(j.failed.find("above the model's peak of 989"), std::string::npos) << j.failed;
  j = JudgeSpeeds(n, {Result(0, 400, 9000)});
  EXPECT_NE(j.failed.find("above the model's peak bandwidth of 3350"), std::string::npos)
      << j.failed;
  // Simulated GPUs, unrated models and indices out of range are not judged.
  j = JudgeSpeeds(n, {Result(0, 0.001, 1, "cpu"), Result(7, 0, 0)});
  EXPECT_TRUE(j.failed.empty() && j.unverified.empty());
  j = JudgeSpeeds(Node({"b200"}), {Result(0, 0.001, 1)});
  EXPECT_TRUE(j.failed.empty() && j.unverified.empty());
}

TEST(GpuRatings, RoundOneTakesTheProductAtTheSlowestFloor) {
  // h100: floor 5 % of 756 = 37.8 TFLOP/s; 2·4096³ = 137 GFLOP take 3.6 ms there.
  EXPECT_EQ(RoundOneDeadlineMs(Node({"h100"}), 4096, 20000, 120000), 20004);
  // A t4 (floor 3.25) is the slower one: 2·32768³ take 21.7 s.
  EXPECT_EQ(RoundOneDeadlineMs(Node({"h100", "t4"}), 32768, 20000, 120000), 20000 + 21652);
  EXPECT_EQ(RoundOneDeadlineMs(Node({"h100", "b200"}), 4096, 20000, 120000), 120000)
      << "an unrated GPU: the cap";
  EXPECT_EQ(RoundOneDeadlineMs(Node({"t4"}), 32768, 110000, 120000), 120000) << "capped";
}

}  // namespace
}  // namespace corral::ctld
