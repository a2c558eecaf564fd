// A batch of CartPole environments stepped in lockstep under the current policy: the actors' half
// of the RL workload. On the GPU one thread runs one environment for a whole episode, the policy
// held in shared memory.
//
// Every random draw (initial state, action sampling) is a function of (seed, iteration, global
// environment index, step), so ranks that collect disjoint slices of environments together
// produce exactly the rollout one process would.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "kernels/device.h"

namespace corral::kernels {

struct RolloutSpec {
  int envs = 64;          // environments in this slice
  int64_t first_env = 0;  // global index of the slice's first environment
  int max_steps = 500;    // episode cap (CartPole-v1)
  uint64_t seed = 0;
  int64_t iteration = 0;  // which episode of each environment
};

// One episode per environment.
struct Rollout {
  int envs = 0;
  int max_steps = 0;
  std::vector<float> obs;        // envs × max_steps × 4: the state each action was taken in
  std::vector<uint8_t> actions;  // envs × max_steps
  std::vector<int32_t> lengths;  // steps until done or the cap: the undiscounted return

  double MeanReturn() const;
};

// 1 ≤ envs ≤ 2^20, 1 ≤ max_steps ≤ 100000, 1 ≤ hidden ≤ 256, first_env ≥ 0, and a policy of
// PolicyParamCount(hidden) floats; Invalid names the field otherwise.
Status ValidateRollout(const RolloutSpec& spec, const std::vector<float>& policy, int hidden);

// The CPU twin.
Rollout CollectRolloutsCpu(const RolloutSpec& spec, const std::vector<float>& policy, int hidden);

// On `device`. Errors: Invalid input; FailedPrecondition for the GPU without one.
Result<Rollout> CollectRollouts(const RolloutSpec& spec, const std::vector<float>& policy,
                                int hidden, Device device);

// Slices side by side, in order, as one rollout (all must share max_steps).
Rollout ConcatRollouts(const std::vector<Rollout>& parts);

namespace gpu {
Result<Rollout> CollectRollouts(const RolloutSpec& spec, const std::vector<float>& policy,
                                int hidden);
}  // namespace gpu

}  // namespace corral::kernels
