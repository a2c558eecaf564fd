#include "kernels/cartpole.h"

#include <gtest/gtest.h>

namespace corral::kernels {
namespace {

// Reference values from Gym's CartPole-v1 equations evaluated in double precision.
struct StepCase {
  CartPoleState from;
  int action;
  CartPoleState want;
};

void ExpectNear(const CartPoleState& got, const CartPoleState& want, double tol) {
  EXPECT_NEAR(got.x, want.x, tol);
  EXPECT_NEAR(got.x_dot, want.x_dot, tol);
  EXPECT_NEAR(got.theta, want.theta, tol);
  EXPECT_NEAR(got.theta_dot, want.theta_dot, tol);
}

TEST(CartPole, StepMatchesGymReferenceValues) {
  const CartPoleParams p;
  const StepCase cases[] = {
      {{0, 0, 0, 0}, 1, {0.0f, 0.1951219512195122f, 0.0f, -0.2926829268292683f}},
      {{0, 0, 0, 0}, 0, {0.0f, -0.1951219512195122f, 0.0f, 0.2926829268292683f}},
      {{0.01f, -0.02f, 0.03f, 0.04f},
       1,
       {0.009600000000000001f, 0.17467919574755525f, 0.030799999999999998f, -0.2430687179600081f}},
      {{0.01f, -0.02f, 0.03f, 0.04f},
       0,
       {0.009600000000000001f, -0.21553901710278936f, 0.030799999999999998f, 0.34199522377603914f}},
  };
  for (const StepCase& c : cases) ExpectNear(CartPoleStep(c.from, c.action, p), c.want, 1e-6);
}

TEST(CartPole, TrajectoryMatchesGym) {
  const CartPoleParams p;
  CartPoleState s{0.01f, -0.02f, 0.03f, 0.04f};
  for (int i = 0; i < 10; ++i) s = CartPoleStep(s, i % 2, p);
  ExpectNear(
      s, {-0.014017818617391039f, -0.026840701600144123f, 0.07847758453606116f, 0.191445587374163f},
      1e-5);
  // Pushing right from rest tips the pole past 12 degrees on the ninth step.
  CartPoleState t;
  int steps = 0;
  do {
    t = CartPoleStep(t, 1, p);
    ++steps;
  } while (!CartPoleDone(t, p) && steps < 100);
  EXPECT_EQ(steps, 9);
  EXPECT_NEAR(t.theta, -0.21518604988500967, 1e-5);
}

TEST(CartPole, DoneAtTheThresholds) {
  const CartPoleParams p;
  EXPECT_FALSE(CartPoleDone({2.39f, 0, 0.2f, 0}, p));
  EXPECT_TRUE(CartPoleDone({2.41f, 0, 0, 0}, p));
  EXPECT_TRUE(CartPoleDone({-2.41f, 0, 0, 0}, p));
  EXPECT_TRUE(CartPoleDone({0, 0, 0.2095f, 0}, p));
  EXPECT_TRUE(CartPoleDone({0, 0, -0.2095f, 0}, p));
  EXPECT_FALSE(CartPoleDone({0, 5.0f, 0.2094f, -5.0f}, p));
}

TEST(CartPole, ResetIsSmallAndSeeded) {
  for (int env = 0; env < 100; ++env) {
    const CartPoleState s = CartPoleReset(3, 0, env);
    for (float v : {s.x, s.x_dot, s.theta, s.theta_dot}) {
      EXPECT_GE(v, -0.05f);
      EXPECT_LT(v, 0.05f);
    }
  }
  EXPECT_EQ(CartPoleReset(3, 1, 2).theta, CartPoleReset(3, 1, 2).theta);
  EXPECT_NE(CartPoleReset(3, 1, 2).theta, CartPoleReset(3, 2, 2).theta);
}

}  // namespace
}  // namespace corral::kernels
