// CartPole, the classic balancing task of Barto, Sutton & Anderson (1983), with the constants,
// equations and explicit Euler step of OpenAI Gym's CartPole-v1. Host and device share this code,
// so a batch stepped on the GPU and its CPU twin follow the same dynamics.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/seeded.h"

namespace corral::kernels {

struct CartPoleParams {
  float gravity = 9.8f;
  float masscart = 1.0f;
  float masspole = 0.1f;
  float length = 0.5f;  // half the pole's length
  float force_mag = 10.0f;
  float tau = 0.02f;                             // seconds per step
  float theta_threshold = 0.20943951023931953f;  // 12 degrees, in radians
  float x_threshold = 2.4f;
};

struct CartPoleState {
  float x = 0;
  float x_dot = 0;
  float theta = 0;
  float theta_dot = 0;
};

// One step under `action` (0 pushes left, 1 pushes right).
CORRAL_HD CartPoleState CartPoleStep(const CartPoleState& s, int action, const CartPoleParams& p) {
  const float force = action == 1 ? p.force_mag : -p.force_mag;
  const float total_mass = p.masspole + p.masscart;
  const float polemass_length = p.masspole * p.length;
  const float costheta = cosf(s.theta);
  const float sintheta = sinf(s.theta);
  const float temp = (force + polemass_length * s.theta_dot * s.theta_dot * sintheta) / total_mass;
  const float thetaacc = (p.gravity * sintheta - costheta * temp) /
                         (p.length * (4.0f / 3.0f - p.masspole * costheta * costheta / total_mass));
  const float xacc = temp - polemass_length * thetaacc * costheta / total_mass;
  CartPoleState n;
  n.x = s.x + p.tau * s.x_dot;
  n.x_dot = s.x_dot + p.tau * xacc;
  n.theta = s.theta + p.tau * s.theta_dot;
  n.theta_dot = s.theta_dot + p.tau * thetaacc;
  return n;
}

// The episode ends when the cart leaves ±2.4 or the pole tilts past ±12°.
CORRAL_HD bool CartPoleDone(const CartPoleState& s, const CartPoleParams& p) {
  return s.x < -p.x_threshold || s.x > p.x_threshold || s.theta < -p.theta_threshold ||
         s.theta > p.theta_threshold;
}

// Gym's reset, each component uniform in [-0.05, 0.05), drawn from (seed, episode, env).
CORRAL_HD CartPoleState CartPoleReset(uint64_t seed, int64_t episode, int64_t env) {
  const uint64_t base = Hash(seed, static_cast<uint64_t>(episode), static_cast<uint64_t>(env));
  CartPoleState s;
  s.x = 0.05f * Symmetric(Hash(base, 0));
  s.x_dot = 0.05f * Symmetric(Hash(base, 1));
  s.theta = 0.05f * Symmetric(Hash(base, 2));
  s.theta_dot = 0.05f * Symmetric(Hash(base, 3));
  return s;
}

}  // namespace corral::kernels
