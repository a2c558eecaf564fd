#include "kernels/train_step.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/seeded.h"

namespace corral::kernels {
namespace {

struct Data {
  std::vector<float> x, y;
  int64_t rows;
};

// A smooth target the model can fit: y = sin(x0) + x1·x2 (one output per extra width).
Data MakeData(int64_t rows, int in, int out, uint64_t seed) {
  Data d;
  d.rows = rows;
  for (int64_t r = 0; r < rows; ++r) {
    for (int i = 0; i < in; ++i) d.x.push_back(Symmetric(Hash(seed, r, i)));
    for (int o = 0; o < out; ++o) {
      const float* xr = &d.x[r * in];
      d.y.push_back(std::sin(2.0f * xr[o % in]) + xr[(o + 1) % in] * xr[(o + 2) % in]);
    }
  }
  return d;
}

// The loss in double, independently of the library's code path.
double LossRef(const std::vector<int>& widths, const std::vector<double>& p, const Data& d) {
  double loss = 0;
  for (int64_t r = 0; r < d.rows; ++r) {
    std::vector<double> a(d.x.begin() + r * widths[0], d.x.begin() + (r + 1) * widths[0]);
    for (size_t l = 0; l + 1 < widths.size(); ++l) {
      const MlpLayer L = LayerOf(widths, l);
      std::vector<double> z(static_cast<size_t>(L.out));
      for (int o = 0; o < L.out; ++o) {
        z[o] = p[L.b + o];
        for (int i = 0; i < L.in; ++i) z[o] += a[i] * p[L.w + i * L.out + o];
        if (l + 2 < widths.size()) z[o] = 0.5 * z[o] * (1 + std::erf(z[o] / std::sqrt(2.0)));
      }
      a = z;
    }
    for (size_t o = 0; o < a.size(); ++o) {
      const double diff = a[o] - d.y[r * a.size() + o];
      loss += 0.5 * diff * diff;
    }
  }
  return loss;
}

TEST(TrainStep, GradientMatchesFiniteDifferences) {
  const std::vector<int> widths = {3, 6, 5, 2};
  const Mlp m = MlpSeeded(widths, 11);
  const Data d = MakeData(9, 3, 2, 12);
  std::vector<float> grad(m.params.size());
  const float loss = LossAndGradientCpu(m, d.x.data(), d.y.data(), d.rows, grad.data());
  std::vector<double> p(m.params.begin(), m.params.end());
  EXPECT_NEAR(loss, LossRef(widths, p, d), 1e-4 * (1 + loss));
  EXPECT_NEAR(LossCpu(m, d.x.data(), d.y.data(), d.rows), loss, 1e-5 * (1 + loss));
  const double h = 1e-5;
  for (size_t i = 0; i < p.size(); ++i) {
    std::vector<double> up = p, down = p;
    up[i] += h;
    down[i] -= h;
    const double fd = (LossRef(widths, up, d) - LossRef(widths, down, d)) / (2 * h);
    EXPECT_NEAR(grad[i], fd, 1e-3 * (1 + std::abs(fd))) << "parameter " << i;
  }
}

TEST(TrainStep, SlicesOfABatchSumToTheWholeBatch) {
  const Mlp m = MlpSeeded({4, 16, 1}, 5);
  const Data d = MakeData(10, 4, 1, 6);
  std::vector<float> whole(m.params.size()), a(m.params.size()), b(m.params.size());
  const float lw = LossAndGradientCpu(m, d.x.data(), d.y.data(), 10, whole.data());
  const float la = LossAndGradientCpu(m, d.x.data(), d.y.data(), 3, a.data());
  const float lb = LossAndGradientCpu(m, d.x.data() + 3 * 4, d.y.data() + 3, 7, b.data());
  EXPECT_NEAR(la + lb, lw, 1e-5);
  for (size_t i = 0; i < whole.size(); ++i) EXPECT_NEAR(a[i] + b[i], whole[i], 1e-5);
}

TEST(TrainStep, SgdLowersTheLoss) {
  const Mlp m = MlpSeeded({4, 32, 1}, 21);
  auto step = TrainStep::Create(m, 64, Device::kCpu);
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_FALSE((*step)->OnDevice());
  EXPECT_EQ((*step)->BufferSize(), static_cast<int64_t>(m.params.size()) + 1);
  float first = 0, last = 0;
  for (int t = 0; t < 150; ++t) {
    const Data d = MakeData(64, 4, 1, 1000 + t);
    ASSERT_TRUE((*step)->Backward(d.x.data(), d.y.data(), d.rows).ok());
    auto loss = (*step)->Apply(0.1f, d.rows);
    ASSERT_TRUE(loss.ok());
    if (t == 0) first = *loss;
    last = *loss;
  }
  EXPECT_LT(last, 0.5f * first) << "first " << first << " last " << last;
  auto params = (*step)->Params();
  ASSERT_TRUE(params.ok());
  EXPECT_NE(*params, m.params);
}

TEST(TrainStep, RejectsBadInput) {
  const Mlp m = MlpSeeded({2, 3, 1}, 1);
  EXPECT_EQ(TrainStep::Create(m, 0, Device::kCpu).status().code(), Status::Code::kInvalid);
  Mlp broken = m;
  broken.params.resize(3);
  EXPECT_EQ(TrainStep::Create(broken, 4, Device::kCpu).status().code(), Status::Code::kInvalid);
  auto step = TrainStep::Create(m, 4, Device::kCpu);
  ASSERT_TRUE(step.ok());
  const Data d = MakeData(5, 2, 1, 3);
  EXPECT_EQ((*step)->Backward(d.x.data(), d.y.data(), 5).code(), Status::Code::kInvalid);
  EXPECT_EQ((*step)->Apply(0.1f, 0).status().code(), Status::Code::kInvalid);
}

}  // namespace
}  // namespace corral::kernels
