#include "kernels/dense.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/mlp.h"
#include "kernels/seeded.h"

namespace corral::kernels {
namespace {

std::vector<float> Random(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = Symmetric(Hash(seed, i));
  return v;
}

double GeluRef(double z) {
  return 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0)));
}

TEST(Dense, GeluMatchesReferenceValues) {
  EXPECT_NEAR(Gelu(0.0f), 0.0f, 1e-7);
  EXPECT_NEAR(Gelu(1.0f), 0.8413447460685429, 1e-6);
  EXPECT_NEAR(Gelu(-1.0f), -0.15865525393145707, 1e-6);
  EXPECT_NEAR(Gelu(3.0f), 2.995949705, 1e-5);
  for (float z = -4.0f; z <= 4.0f; z += 0.37f) {
    const double h = 1e-3;
    const double fd = (GeluRef(z + h) - GeluRef(z - h)) / (2 * h);
    EXPECT_NEAR(GeluGrad(z), fd, 1e-4) << "z=" << z;
  }
}

struct DenseShape {
  int64_t rows, in, out;
};

class DenseShapes : public ::testing::TestWithParam<DenseShape> {};

TEST_P(DenseShapes, CpuTwinMatchesNaive) {
  const DenseShape s = GetParam();
  const auto x = Random(s.rows * s.in, 1), w = Random(s.in * s.out, 2), b = Random(s.out, 3);
  for (Activation act : {Activation::kIdentity, Activation::kGelu}) {
    std::vector<float> y(static_cast<size_t>(s.rows * s.out)), pre(y.size());
    DenseCpu(x.data(), s.rows, s.in, w.data(), b.data(), s.out, act, y.data(), pre.data());
    for (int64_t r = 0; r < s.rows; ++r) {
      for (int64_t o = 0; o < s.out; ++o) {
        double z = b[o];
        for (int64_t i = 0; i < s.in; ++i)
          z += static_cast<double>(x[r * s.in + i]) * w[i * s.out + o];
        const double want = act == Activation::kGelu ? GeluRef(z) : z;
        ASSERT_NEAR(pre[r * s.out + o], z, 1e-4 * (1 + std::abs(z)));
        ASSERT_NEAR(y[r * s.out + o], want, 1e-4 * (1 + std::abs(want)));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SmallAndOdd, DenseShapes,
                         ::testing::Values(DenseShape{1, 1, 1}, DenseShape{7, 7, 7},
                                           DenseShape{129, 7, 1}, DenseShape{1, 129, 7},
                                           DenseShape{7, 1, 129}, DenseShape{129, 129, 129}));

TEST(Dense, GemmF32AllTransposesMatchNaive) {
  const int64_t m = 7, n = 129, k = 13;
  const auto a = Random(m * k, 4), b = Random(k * n, 5), c0 = Random(m * n, 6);
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      std::vector<float> c = c0;
      GemmF32Cpu(ta, tb, m, n, k, a.data(), b.data(), 0.5f, c.data());
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double want = 0.5 * c0[i * n + j];
          for (int64_t kk = 0; kk < k; ++kk) {
            const double av = ta ? a[kk * m + i] : a[i * k + kk];
            const double bv = tb ? b[j * k + kk] : b[kk * n + j];
            want += av * bv;
          }
          ASSERT_NEAR(c[i * n + j], want, 1e-5) << ta << tb << " " << i << "," << j;
        }
      }
    }
  }
}

TEST(Dense, ColumnSums) {
  const auto x = Random(129 * 7, 8);
  std::vector<float> out(7);
  ColumnSumsCpu(x.data(), 129, 7, out.data());
  for (int j = 0; j < 7; ++j) {
    double want = 0;
    for (int r = 0; r < 129; ++r) want += x[r * 7 + j];
    EXPECT_NEAR(out[j], want, 1e-4);
  }
}

TEST(Mlp, ForwardIsLayerByLayer) {
  const Mlp m = MlpSeeded({5, 9, 3}, 77);
  EXPECT_EQ(m.params.size(), static_cast<size_t>(5 * 9 + 9 + 9 * 3 + 3));
  const auto x = Random(4 * 5, 9);
  const std::vector<float> y = MlpForwardCpu(m, x.data(), 4);
  ASSERT_EQ(y.size(), 12u);
  const MlpLayer l0 = LayerOf(m.widths, 0), l1 = LayerOf(m.widths, 1);
  EXPECT_EQ(l1.w, 5 * 9 + 9);
  for (int r = 0; r < 4; ++r) {
    std::vector<double> h(9);
    for (int j = 0; j < 9; ++j) {
      double z = m.params[l0.b + j];
      for (int i = 0; i < 5; ++i) z += x[r * 5 + i] * m.params[l0.w + i * 9 + j];
      h[j] = GeluRef(z);
    }
    for (int o = 0; o < 3; ++o) {
      double z = m.params[l1.b + o];
      for (int j = 0; j < 9; ++j) z += h[j] * m.params[l1.w + j * 3 + o];
      EXPECT_NEAR(y[r * 3 + o], z, 1e-5);
    }
  }
  EXPECT_EQ(MlpSeeded({5, 9, 3}, 77).params, m.params);
  EXPECT_NE(MlpSeeded({5, 9, 3}, 78).params, m.params);
}

TEST(Mlp, RejectsBadModels) {
  EXPECT_EQ(ValidateWidths({4}).code(), Status::Code::kInvalid);
  EXPECT_NE(ValidateWidths({4, 0, 2}).message().find("widths[1]"), std::string::npos);
  Mlp m = MlpSeeded({2, 2}, 1);
  m.params.pop_back();
  const float x[2] = {0, 0};
  EXPECT_EQ(MlpForward(m, x, 1, Device::kCpu).status().code(), Status::Code::kInvalid);
}

}  // namespace
}  // namespace corral::kernels
