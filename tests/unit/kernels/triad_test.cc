#include "kernels/triad.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace corral::kernels {
namespace {

TEST(Triad, CpuTwinMatchesNaiveOnOddLengths) {
  for (int64_t n : {1, 7, 129}) {
    std::vector<float> a(n), b(n), c(n);
    for (int64_t i = 0; i < n; ++i) {
      b[i] = 0.37f * static_cast<float>(i) - 3.0f;
      c[i] = 1.0f / static_cast<float>(i + 1);
    }
    TriadCpu(a.data(), b.data(), c.data(), 2.5f, n);
    for (int64_t i = 0; i < n; ++i) {
      const double want = static_cast<double>(b[i]) + 2.5 * static_cast<double>(c[i]);
      EXPECT_NEAR(a[i], want, 1e-6 * (1 + std::abs(want))) << "n=" << n << " i=" << i;
    }
  }
}

TEST(Triad, CpuRunVerifiesAndMeasures) {
  TriadSpec s;
  s.elements = 1 << 16;
  auto r = RunTriad(s, Device::kCpu);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->verified);
  EXPECT_GT(r->triad_gbps, 0);
  EXPECT_GT(r->copy_gbps, 0);
  EXPECT_EQ(r->engine, "cpu");
}

TEST(Triad, ValidatesTheSpec) {
  TriadSpec s;
  s.elements = 0;
  EXPECT_EQ(ValidateTriadSpec(s).code(), Status::Code::kInvalid);
  EXPECT_FALSE(RunTriad(s, Device::kCpu).ok());
  s.elements = 10;
  s.seconds = -1;
  EXPECT_EQ(ValidateTriadSpec(s).message().rfind("triad seconds", 0), 0u);
}

}  // namespace
}  // namespace corral::kernels
