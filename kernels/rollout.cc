#include "kernels/rollout.h"

#include <string>

#include "kernels/cartpole.h"
#include "kernels/episode.h"
#include "kernels/policy.h"

namespace corral::kernels {

std::vector<float> PolicySeeded(int hidden, uint64_t seed) {
  std::vector<float> p(static_cast<size_t>(PolicyParamCount(hidden)), 0.0f);
  const int64_t w1 = int64_t{kPolicyObs} * hidden;
  const int64_t w2 = w1 + hidden;
  for (int64_t i = 0; i < w1; ++i) p[i] = 0.5f * Symmetric(Hash(seed, 1, i));
  for (int64_t i = 0; i < int64_t{hidden} * kPolicyActions; ++i) {
    p[w2 + i] = 0.01f * Symmetric(Hash(seed, 2, i));
  }
  return p;
}

double Rollout::MeanReturn() const {
  if (lengths.empty()) return 0;
  double sum = 0;
  for (int32_t l : lengths) sum += l;
  return sum / static_cast<double>(lengths.size());
}

Status ValidateRollout(const RolloutSpec& s, const std::vector<float>& policy, int hidden) {
  if (s.envs < 1 || s.envs > (1 << 20))
    return Status::Invalid("rollout envs: must be in [1, 2^20]");
  if (s.max_steps < 1 || s.max_steps > 100000) {
    return Status::Invalid("rollout max_steps: must be in [1, 100000]");
  }
  if (s.first_env < 0) return Status::Invalid("rollout first_env: must be at least 0");
  // The rollout holds 17 bytes per step (observation and action): cap it near 1 GiB.
  if (static_cast<int64_t>(s.envs) * s.max_steps > (int64_t{1} << 26)) {
    return Status::Invalid("rollout envs x max_steps: " + std::to_string(s.envs) + " x " +
                           std::to_string(s.max_steps) + " steps is above 2^26 (about 1 GiB)");
  }
  if (hidden < 1 || hidden > 256) return Status::Invalid("rollout hidden: must be in [1, 256]");
  if (policy.size() != static_cast<size_t>(PolicyParamCount(hidden))) {
    return Status::Invalid("rollout policy: " + std::to_string(policy.size()) +
                           " parameters, a hidden width of " + std::to_string(hidden) + " needs " +
                           std::to_string(PolicyParamCount(hidden)));
  }
  return Status::Ok();
}

Rollout CollectRolloutsCpu(const RolloutSpec& s, const std::vector<float>& policy, int hidden) {
  Rollout r;
  r.envs = s.envs;
  r.max_steps = s.max_steps;
  r.obs.assign(static_cast<size_t>(s.envs) * s.max_steps * kPolicyObs, 0.0f);
  r.actions.assign(static_cast<size_t>(s.envs) * s.max_steps, 0);
  r.lengths.assign(static_cast<size_t>(s.envs), 0);
  for (int e = 0; e < s.envs; ++e) {
    r.lengths[e] = RunEpisode(s, policy.data(), hidden, e,
                              &r.obs[static_cast<size_t>(e) * s.max_steps * kPolicyObs],
                              &r.actions[static_cast<size_t>(e) * s.max_steps]);
  }
  return r;
}

Result<Rollout> CollectRollouts(const RolloutSpec& spec, const std::vector<float>& policy,
                                int hidden, Device device) {
  if (Status st = ValidateRollout(spec, policy, hidden); !st.ok()) return st;
  if (device == Device::kGpu) return gpu::CollectRollouts(spec, policy, hidden);
  return CollectRolloutsCpu(spec, policy, hidden);
}

Rollout ConcatRollouts(const std::vector<Rollout>& parts) {
  Rollout r;
  for (const Rollout& p : parts) {
    r.envs += p.envs;
    r.max_steps = p.max_steps;
    r.obs.insert(r.obs.end(), p.obs.begin(), p.obs.end());
    r.actions.insert(r.actions.end(), p.actions.begin(), p.actions.end());
    r.lengths.insert(r.lengths.end(), p.lengths.begin(), p.lengths.end());
  }
  return r;
}

}  // namespace corral::kernels
