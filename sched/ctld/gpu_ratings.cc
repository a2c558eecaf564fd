#include "sched/ctld/gpu_ratings.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/log.h"

namespace corral::ctld {

namespace {

// Dense (no sparsity) tensor figures. More specific names come before the names they contain.
const std::vector<GpuRating> kRatings = {
    {"h200", 835, 989, 4800, 4800, "NVIDIA H200 datasheet (NVL to SXM)"},
    {"h100 pcie", 756, 756, 2000, 2000, "NVIDIA H100 datasheet (PCIe)"},
    {"h100 nvl", 835, 835, 3900, 3900, "NVIDIA H100 datasheet (NVL)"},
    {"h100", 756, 989, 2000, 3350, "NVIDIA H100 datasheet (PCIe to SXM)"},
    {"a100", 312, 312, 1555, 2039, "NVIDIA A100 datasheet (40 GB PCIe to 80 GB SXM)"},
    {"l40s", 362, 362, 864, 864, "NVIDIA L40S datasheet"},
    {"l40", 181, 181, 864, 864, "NVIDIA L40 datasheet"},
    {"l4", 121, 121, 300, 300, "NVIDIA L4 datasheet"},
    {"a10", 125, 125, 600, 600, "NVIDIA A10 datasheet"},
    {"t4", 65, 65, 320, 320, "NVIDIA T4 datasheet (FP16 mixed precision)"},
    {"v100", 112, 125, 900, 900, "NVIDIA V100 datasheet (PCIe to SXM2, FP16 tensor)"},
    {"rtx 4090", 165, 165, 1008, 1008,
     "NVIDIA Ada architecture whitepaper (RTX 4090, FP32 accumulate)"},
    {"rtx 3090", 71, 71, 936, 936, "NVIDIA Ampere GA102 whitepaper (RTX 3090, FP32 accumulate)"},
};

std::vector<std::string> Tokens(const std::string& s) {
  std::string t = Lower(s);
  std::replace_if(
      t.begin(), t.end(), [](char c) { return c == '-' || c == '_' || c == '/'; }, ' ');
  std::istringstream in(t);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string Figure(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : "%.3g", v);
  return buf;
}

}  // namespace

const std::vector<GpuRating>& GpuRatings() {
  return kRatings;
}

const GpuRating* RatingOf(const std::string& model) {
  const std::vector<std::string> have = Tokens(model);
  for (const GpuRating& r : kRatings) {
    const std::vector<std::string> want = Tokens(r.model);
    if (want.empty() || want.size() > have.size()) continue;
    for (size_t at = 0; at + want.size() <= have.size(); ++at) {
      if (std::equal(want.begin(), want.end(), have.begin() + static_cast<ptrdiff_t>(at))) {
        return &r;
      }
    }
  }
  return nullptr;
}

SpeedJudgment JudgeSpeeds(const NodeProfile& node, const std::vector<v1::GpuCheckResult>& gpus,
                          const SpeedPolicy& policy) {
  SpeedJudgment out;
  auto add = [](std::string* to, const std::string& why) {
    if (to->empty()) *to = why;
  };
  for (const v1::GpuCheckResult& g : gpus) {
    if (g.engine() == "cpu" || g.index() < 0 ||
        static_cast<size_t>(g.index()) >= node.gpus.size()) {
      continue;
    }
    const std::string& model = node.gpus[static_cast<size_t>(g.index())].model;
    const GpuRating* r = RatingOf(model);
    if (!r) continue;
    const std::string name = "GPU " + std::to_string(g.index()) + " (" + model + ")";
    if (g.tflops() > r->tflops_high * policy.ceiling_margin) {
      add(&out.failed, name + ": reports " + Figure(g.tflops()) +
                           " TFLOP/s, above the model's peak of " + Figure(r->tflops_high) + " (" +
                           r->source + ")");
    }
    if (g.gbps() > r->gbps_high * policy.ceiling_margin) {
      add(&out.failed, name + ": reports " + Figure(g.gbps()) +
                           " GB/s, above the model's peak bandwidth of " + Figure(r->gbps_high) +
                           " (" + r->source + ")");
    }
    const double floor = r->tflops_low * policy.floor_fraction;
    if (g.tflops() < floor) {
      add(&out.unverified, name + ": " + Figure(g.tflops()) + " TFLOP/s measured, under " +
                               Figure(floor) + " (" + Figure(policy.floor_fraction * 100) +
                               " % of the model's " + Figure(r->tflops_low) + ", " + r->source +
                               ")");
    }
    const double gfloor = r->gbps_low * policy.gbps_floor_fraction;
    if (g.gbps() < gfloor) {
      add(&out.unverified, name + ": " + Figure(g.gbps()) + " GB/s measured, under " +
                               Figure(gfloor) + " (" + Figure(policy.gbps_floor_fraction * 100) +
                               " % of the model's " + Figure(r->gbps_low) + ", " + r->source + ")");
    }
  }
  return out;
}

int64_t RoundOneDeadlineMs(const NodeProfile& node, int64_t size, int64_t slack_ms, int64_t cap_ms,
                           const SpeedPolicy& policy) {
  double slowest = 0;  // the least floor speed among rated GPUs, TFLOP/s
  for (const GpuDevice& g : node.gpus) {
    const GpuRating* r = RatingOf(g.model);
    if (!r) return cap_ms;  // an unrated GPU: no speed to hold it to
    const double floor = r->tflops_low * policy.floor_fraction;
    slowest = slowest == 0 ? floor : std::min(slowest, floor);
  }
  if (slowest <= 0) return cap_ms;
  const double n = static_cast<double>(size);
  const double product_ms = 2 * n * n * n / (slowest * 1e12) * 1000;
  return std::min<int64_t>(cap_ms, slack_ms + static_cast<int64_t>(std::ceil(product_ms)));
}

}  // namespace corral::ctld
