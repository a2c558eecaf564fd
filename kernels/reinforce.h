// The learner's half of the RL workload: REINFORCE (Williams 1992) with a normalized
// return-to-go baseline and Adam, on the host. The learner consumes rollouts from any number of
// actors (see rollout.h) and publishes new policy parameters.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "kernels/rollout.h"

namespace corral::kernels {

struct ReinforceConfig {
  int hidden = 32;
  float gamma = 0.99f;
  float learning_rate = 0.01f;
};

// Per step (env-major, only t < length): the discounted return-to-go, normalized over the
// whole rollout to mean 0 and standard deviation 1.
std::vector<float> Advantages(const Rollout& rollout, float gamma);

// The surrogate J(θ) = (1/N)·Σ A·log π(a|s; θ) over the N steps of `rollout`, with fixed
// advantages; its gradient is the policy gradient.
float Surrogate(const std::vector<float>& policy, int hidden, const Rollout& rollout,
                const std::vector<float>& advantages);

// dJ/dθ, laid out like the policy, written into grad (PolicyParamCount(hidden) floats).
void SurrogateGradient(const std::vector<float>& policy, int hidden, const Rollout& rollout,
                       const std::vector<float>& advantages, float* grad);

class ReinforceLearner {
 public:
  ReinforceLearner(const ReinforceConfig& config, uint64_t seed);

  const std::vector<float>& policy() const { return policy_; }
  const ReinforceConfig& config() const { return config_; }

  // One Adam ascent step on the policy gradient of `rollout`. Invalid for an empty rollout.
  Status Update(const Rollout& rollout);

 private:
  ReinforceConfig config_;
  std::vector<float> policy_;
  std::vector<float> m_, v_;  // Adam moments
  int64_t steps_ = 0;
};

}  // namespace corral::kernels
