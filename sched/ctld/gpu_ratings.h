// What each GPU model can do, from its vendor's datasheet, and the judgment of a GPU check's
// figures against it. A node's TFLOP/s and GB/s are its own word; the product it committed to is
// proven (gpu_verify.h), and so is a lower bound on its speed: corrald times round one itself.
// Against the model a node claims:
//  - a figure above the model's peak (with a margin) is impossible: the check fails;
//  - a figure, or corrald's bound, far under the model's (a fraction of its lowest variant's
//    peak) leaves the node unverified, with the reason: a slower part, or a CPU posing as a GPU.
// A model not in the table is judged on its product alone.
#pragma once

#include <string>
#include <vector>

#include "common/node.h"
#include "fabric/proto/corral.pb.h"

namespace corral::ctld {

struct GpuRating {
  const char* model;       // as matched: lower case, e.g. "h100 pcie"
  double tflops_low = 0;   // dense BF16 (FP16 where the part has no BF16) tensor peak, TFLOP/s,
  double tflops_high = 0;  //   of its slowest and fastest variants
  double gbps_low = 0;     // memory bandwidth, GB/s, likewise
  double gbps_high = 0;
  const char* source;  // where the figures come from
};

// The rating of a model name as a node reports it ("H100", "NVIDIA H100 80GB HBM3",
// "h100-pcie"), or null when the table has none.
const GpuRating* RatingOf(const std::string& model);

// The whole table, for `corrald --help-gpu-ratings` and tests.
const std::vector<GpuRating>& GpuRatings();

struct SpeedPolicy {
  double floor_fraction = 0.05;       // of tflops_low: under it, unverified
  double gbps_floor_fraction = 0.25;  // of gbps_low
  double ceiling_margin = 1.2;        // of the high figures: over it, failed
};

struct SpeedJudgment {
  std::string failed;      // an impossible figure: the check fails, saying why
  std::string unverified;  // too slow for the claim: unverified, saying why
};

// Judges each GPU's result (index, tflops, gbps and bound_tflops set) against the model its
// node declared for it. Simulated GPUs (engine "cpu") are not judged.
SpeedJudgment JudgeSpeeds(const NodeProfile& node, const std::vector<v1::GpuCheckResult>& gpus,
                          const SpeedPolicy& policy = {});

// How long round one may take for the GPUs `node` declares: `slack_ms` plus a product of size³
// at the floor speed of its slowest rated GPU; `cap_ms` when none is rated, or when that is
// longer. A node that answers later did not compute at the speed it claims.
int64_t RoundOneDeadlineMs(const NodeProfile& node, int64_t size, int64_t slack_ms, int64_t cap_ms,
                           const SpeedPolicy& policy = {});

}  // namespace corral::ctld
