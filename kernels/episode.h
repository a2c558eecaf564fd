// Internal to kernels/: one environment's episode, shared by the CPU twin and the GPU kernel.
#pragma once

#include <cstdint>

#include "kernels/cartpole.h"
#include "kernels/policy.h"
#include "kernels/rollout.h"
#include "kernels/seeded.h"

namespace corral::kernels {

// Runs environment `e` of the slice (global index spec.first_env + e) until done or
// spec.max_steps; writes the state before each action (4 floats a step) and the action taken.
// Returns the episode's length.
CORRAL_HD int32_t RunEpisode(const RolloutSpec& spec, const float* policy, int hidden, int e,
                             float* obs, uint8_t* actions) {
  const CartPoleParams p;
  const int64_t env = spec.first_env + e;
  CartPoleState s = CartPoleReset(spec.seed, spec.iteration, env);
  const uint64_t draws = Hash(spec.seed ^ 0x726f6c6c6f7574ULL,
                              static_cast<uint64_t>(spec.iteration), static_cast<uint64_t>(env));
  for (int t = 0; t < spec.max_steps; ++t) {
    float* o = obs + static_cast<int64_t>(t) * kPolicyObs;
    o[0] = s.x;
    o[1] = s.x_dot;
    o[2] = s.theta;
    o[3] = s.theta_dot;
    const float right = PolicyProbRight(policy, hidden, o, nullptr);
    const int action = Uniform(Hash(draws, static_cast<uint64_t>(t))) < right ? 1 : 0;
    actions[t] = static_cast<uint8_t>(action);
    s = CartPoleStep(s, action, p);
    if (CartPoleDone(s, p)) return t + 1;
  }
  return spec.max_steps;
}

}  // namespace corral::kernels
