#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <numeric>

#include "kernels/cartpole.h"
#include "kernels/policy.h"
#include "kernels/reinforce.h"
#include "kernels/rollout.h"

namespace corral::kernels {
namespace {

RolloutSpec Spec(int envs, int64_t first_env = 0, int max_steps = 200) {
  RolloutSpec s;
  s.envs = envs;
  s.first_env = first_env;
  s.max_steps = max_steps;
  s.seed = 5;
  s.iteration = 3;
  return s;
}

TEST(Rollout, EpisodesFollowTheDynamics) {
  const int hidden = 8;
  const auto policy = PolicySeeded(hidden, 1);
  const RolloutSpec spec = Spec(16);
  const Rollout r = CollectRolloutsCpu(spec, policy, hidden);
  const CartPoleParams p;
  for (int e = 0; e < r.envs; ++e) {
    const int len = r.lengths[e];
    ASSERT_GE(len, 1);
    ASSERT_LE(len, spec.max_steps);
    const float* o = &r.obs[static_cast<size_t>(e) * spec.max_steps * 4];
    const CartPoleState reset = CartPoleReset(spec.seed, spec.iteration, e);
    EXPECT_EQ(o[0], reset.x);
    EXPECT_EQ(o[3], reset.theta_dot);
    // Replaying the recorded actions reproduces every recorded state and the end.
    CartPoleState s = reset;
    for (int t = 0; t < len; ++t) {
      ASSERT_EQ(o[4 * t + 2], s.theta) << "env " << e << " step " << t;
      s = CartPoleStep(s, r.actions[static_cast<size_t>(e) * spec.max_steps + t], p);
      ASSERT_EQ(CartPoleDone(s, p), t + 1 == len && len < spec.max_steps) << "env " << e;
    }
  }
}

TEST(Rollout, SlicesOfEnvironmentsMakeTheWholeBatch) {
  const int hidden = 8;
  const auto policy = PolicySeeded(hidden, 2);
  const Rollout whole = CollectRolloutsCpu(Spec(12), policy, hidden);
  const Rollout joined = ConcatRollouts({CollectRolloutsCpu(Spec(5, 0), policy, hidden),
                                         CollectRolloutsCpu(Spec(7, 5), policy, hidden)});
  EXPECT_EQ(joined.envs, 12);
  EXPECT_EQ(joined.lengths, whole.lengths);
  EXPECT_EQ(joined.actions, whole.actions);
  EXPECT_EQ(joined.obs, whole.obs);
}

TEST(Rollout, ValidatesInput) {
  const auto policy = PolicySeeded(8, 2);
  EXPECT_EQ(ValidateRollout(Spec(0), policy, 8).code(), Status::Code::kInvalid);
  EXPECT_NE(ValidateRollout(Spec(4), policy, 9).message().find("rollout policy"),
            std::string::npos);
  EXPECT_FALSE(CollectRollouts(Spec(4, -1), policy, 8, Device::kCpu).ok());
  // Each bound alone is fine, their product would need terabytes: refused, not a bad_alloc.
  const Status huge = ValidateRollout(Spec(1 << 20, 0, 100000), policy, 8);
  EXPECT_EQ(huge.code(), Status::Code::kInvalid);
  EXPECT_NE(huge.message().find("envs x max_steps"), std::string::npos) << huge.message();
  EXPECT_TRUE(ValidateRollout(Spec(1 << 16, 0, 1000), policy, 8).ok());
}

TEST(Reinforce, AdvantagesAreNormalizedReturnsToGo) {
  Rollout r;
  r.envs = 2;
  r.max_steps = 3;
  r.lengths = {3, 1};
  const auto adv = Advantages(r, 0.5f);
  ASSERT_EQ(adv.size(), 4u);
  // Returns-to-go: 1.75, 1.5, 1, then 1; normalized.
  const double g[4] = {1.75, 1.5, 1.0, 1.0};
  const double mean = (g[0] + g[1] + g[2] + g[3]) / 4;
  double var = 0;
  for (double x : g) var += (x - mean) * (x - mean) / 4;
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(adv[i], (g[i] - mean) / std::sqrt(var), 1e-5);
}

TEST(Reinforce, GradientMatchesFiniteDifferences) {
  const int hidden = 5;
  std::vector<float> policy = PolicySeeded(hidden, 3);
  for (size_t i = 0; i < policy.size(); ++i) policy[i] += 0.3f * std::sin(1.0f + i);
  const Rollout r = CollectRolloutsCpu(Spec(6, 0, 30), policy, hidden);
  const auto adv = Advantages(r, 0.99f);
  std::vector<float> grad(policy.size());
  SurrogateGradient(policy, hidden, r, adv, grad.data());
  const float h = 1e-2f;
  for (size_t i = 0; i < policy.size(); ++i) {
    std::vector<float> up = policy, down = policy;
    up[i] += h;
    down[i] -= h;
    const double fd =
        (static_cast<double>(Surrogate(up, hidden, r, adv)) - Surrogate(down, hidden, r, adv)) /
        (2 * h);
    EXPECT_NEAR(grad[i], fd, 2e-3 + 2e-2 * std::abs(fd)) << "parameter " << i;
  }
}

TEST(Reinforce, MeanReturnRises) {
  ReinforceConfig cfg;
  cfg.hidden = 16;
  cfg.learning_rate = 0.02f;
  ReinforceLearner learner(cfg, 7);
  double early = 0, late = 0;
  const int iterations = 40;
  for (int it = 0; it < iterations; ++it) {
    RolloutSpec spec = Spec(32, 0, 200);
    spec.iteration = it;
    const Rollout r = CollectRolloutsCpu(spec, learner.policy(), cfg.hidden);
    if (it < 5) early += r.MeanReturn() / 5;
    if (it >= iterations - 5) late += r.MeanReturn() / 5;
    ASSERT_TRUE(learner.Update(r).ok());
  }
  EXPECT_GT(late, 2 * early) << "early " << early << " late " << late;
  Rollout empty;
  EXPECT_EQ(learner.Update(empty).code(), Status::Code::kInvalid);
}

}  // namespace
}  // namespace corral::kernels
