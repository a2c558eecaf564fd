#include "kernels/reinforce.h"

#include <algorithm>
#include <cmath>

#include "kernels/policy.h"

namespace corral::kernels {

namespace {

int64_t StepCount(const Rollout& r) {
  int64_t n = 0;
  for (int32_t l : r.lengths) n += l;
  return n;
}

const float* ObsAt(const Rollout& r, int e, int t) {
  return &r.obs[(static_cast<size_t>(e) * r.max_steps + t) * kPolicyObs];
}

}  // namespace

std::vector<float> Advantages(const Rollout& r, float gamma) {
  std::vector<float> adv;
  adv.reserve(static_cast<size_t>(StepCount(r)));
  for (int e = 0; e < r.envs; ++e) {
    const int len = r.lengths[e];
    std::vector<float> g(static_cast<size_t>(len));
    float running = 0;
    for (int t = len - 1; t >= 0; --t) {
      running = 1.0f + gamma * running;  // reward 1 per step
      g[t] = running;
    }
    adv.insert(adv.end(), g.begin(), g.end());
  }
  double mean = 0, sq = 0;
  for (float a : adv) mean += a;
  mean /= std::max<size_t>(adv.size(), 1);
  for (float a : adv) sq += (a - mean) * (a - mean);
  const double sd = std::sqrt(sq / std::max<size_t>(adv.size(), 1));
  for (float& a : adv) a = static_cast<float>((a - mean) / (sd + 1e-8));
  return adv;
}

float Surrogate(const std::vector<float>& policy, int hidden, const Rollout& r,
                const std::vector<float>& adv) {
  double sum = 0;
  size_t i = 0;
  for (int e = 0; e < r.envs; ++e) {
    for (int t = 0; t < r.lengths[e]; ++t, ++i) {
      const float right = PolicyProbRight(policy.data(), hidden, ObsAt(r, e, t), nullptr);
      const float p = r.actions[static_cast<size_t>(e) * r.max_steps + t] ? right : 1.0f - right;
      sum += adv[i] * std::log(std::max(p, 1e-30f));
    }
  }
  return static_cast<float>(sum / std::max<int64_t>(StepCount(r), 1));
}

void SurrogateGradient(const std::vector<float>& policy, int hidden, const Rollout& r,
                       const std::vector<float>& adv, float* grad) {
  const int64_t count = PolicyParamCount(hidden);
  for (int64_t i = 0; i < count; ++i) grad[i] = 0.0f;
  float* gw1 = grad;
  float* gb1 = gw1 + kPolicyObs * hidden;
  float* gw2 = gb1 + hidden;
  float* gb2 = gw2 + hidden * kPolicyActions;
  const float* w2 = policy.data() + kPolicyObs * hidden + hidden;
  std::vector<float> h(static_cast<size_t>(hidden));
  const float scale = 1.0f / static_cast<float>(std::max<int64_t>(StepCount(r), 1));
  size_t i = 0;
  for (int e = 0; e < r.envs; ++e) {
    for (int t = 0; t < r.lengths[e]; ++t, ++i) {
      const float* s = ObsAt(r, e, t);
      const float right = PolicyProbRight(policy.data(), hidden, s, h.data());
      const int a = r.actions[static_cast<size_t>(e) * r.max_steps + t];
      // d log π(a) / d logit_k = [k == a] − π_k, times the advantage.
      const float coef = adv[i] * scale;
      const float g0 = coef * ((a == 0 ? 1.0f : 0.0f) - (1.0f - right));
      const float g1 = coef * ((a == 1 ? 1.0f : 0.0f) - right);
      gb2[0] += g0;
      gb2[1] += g1;
      for (int j = 0; j < hidden; ++j) {
        gw2[j * kPolicyActions] += h[j] * g0;
        gw2[j * kPolicyActions + 1] += h[j] * g1;
        const float dz =
            (w2[j * kPolicyActions] * g0 + w2[j * kPolicyActions + 1] * g1) * (1.0f - h[j] * h[j]);
        gb1[j] += dz;
        for (int k = 0; k < kPolicyObs; ++k) gw1[k * hidden + j] += s[k] * dz;
      }
    }
  }
}

ReinforceLearner::ReinforceLearner(const ReinforceConfig& config, uint64_t seed)
    : config_(config),
      policy_(PolicySeeded(config.hidden, seed)),
      m_(policy_.size(), 0.0f),
      v_(policy_.size(), 0.0f) {}

Status ReinforceLearner::Update(const Rollout& rollout) {
  if (StepCount(rollout) == 0) return Status::Invalid("reinforce: rollout holds no steps");
  const std::vector<float> adv = Advantages(rollout, config_.gamma);
  std::vector<float> grad(policy_.size());
  SurrogateGradient(policy_, config_.hidden, rollout, adv, grad.data());
  constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;
  ++steps_;
  const float c1 = 1.0f - std::pow(kBeta1, static_cast<float>(steps_));
  const float c2 = 1.0f - std::pow(kBeta2, static_cast<float>(steps_));
  for (size_t i = 0; i < policy_.size(); ++i) {
    m_[i] = kBeta1 * m_[i] + (1 - kBeta1) * grad[i];
    v_[i] = kBeta2 * v_[i] + (1 - kBeta2) * grad[i] * grad[i];
    // Ascent: the surrogate is to be maximized.
    policy_[i] += config_.learning_rate * (m_[i] / c1) / (std::sqrt(v_[i] / c2) + kEps);
  }
  return Status::Ok();
}

}  // namespace corral::kernels
