// The RL policy: observation (4) → hidden (tanh) → 2 logits → softmax over {left, right}.
// Parameters are flat: W1 (4×hidden, row-major), b1 (hidden), W2 (hidden×2), b2 (2). Host and
// device share the forward pass.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/seeded.h"

namespace corral::kernels {

constexpr int kPolicyObs = 4;
constexpr int kPolicyActions = 2;

CORRAL_HD int64_t PolicyParamCount(int hidden) {
  return int64_t{kPolicyObs} * hidden + hidden + int64_t{hidden} * kPolicyActions + kPolicyActions;
}

// Probability of action 1 (push right) in state `obs`. When `hidden_out` is not null it receives
// the hidden activations (for the gradient).
CORRAL_HD float PolicyProbRight(const float* params, int hidden, const float* obs,
                                float* hidden_out) {
  const float* w1 = params;
  const float* b1 = w1 + kPolicyObs * hidden;
  const float* w2 = b1 + hidden;
  const float* b2 = w2 + hidden * kPolicyActions;
  float l0 = b2[0];
  float l1 = b2[1];
  for (int j = 0; j < hidden; ++j) {
    float z = b1[j];
    for (int i = 0; i < kPolicyObs; ++i) z += obs[i] * w1[i * hidden + j];
    const float h = tanhf(z);
    if (hidden_out) hidden_out[j] = h;
    l0 += h * w2[j * kPolicyActions];
    l1 += h * w2[j * kPolicyActions + 1];
  }
  return 1.0f / (1.0f + expf(l0 - l1));
}

// A fresh policy from `seed`: W1 uniform in ±1/2 (fan-in 4), W2 in ±0.01 so the first actions are
// close to coin flips, biases zero.
std::vector<float> PolicySeeded(int hidden, uint64_t seed);

}  // namespace corral::kernels
