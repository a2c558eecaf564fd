#include "kernels/gemm_verify.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

namespace corral::kernels {
namespace {

GemmSpec Spec(int64_t m, int64_t n, int64_t k, uint64_t seed = 42) {
  GemmSpec s;
  s.m = m;
  s.n = n;
  s.k = k;
  s.seed = seed;
  s.challenge = seed * 7 + 1;
  s.samples = 8;
  return s;
}

// Textbook triple loop in double: the reference the twin must equal exactly.
std::vector<double> NaiveGemm(const GemmSpec& s) {
  std::vector<double> c(static_cast<size_t>(s.m * s.n), 0.0);
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = 0;
      for (int64_t kk = 0; kk < s.k; ++kk) {
        acc += static_cast<double>(GemmInputA(s.seed, i, kk)) * GemmInputB(s.seed, kk, j);
      }
      c[i * s.n + j] = acc;
    }
  }
  return c;
}

float FlipLowestBit(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits ^= 1u;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

struct Shape {
  int64_t m, n, k;
};

class GemmShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(GemmShapes, CpuTwinEqualsNaiveExactly) {
  const Shape sh = GetParam();
  for (GemmPrecision p : {GemmPrecision::kBf16, GemmPrecision::kFp16}) {
    GemmSpec s = Spec(sh.m, sh.n, sh.k);
    s.precision = p;
    const std::vector<float> c = GemmCpu(s);
    const std::vector<double> want = NaiveGemm(s);
    ASSERT_EQ(c.size(), want.size());
    for (size_t i = 0; i < c.size(); ++i) {
      ASSERT_EQ(static_cast<double>(c[i]), want[i]) << "entry " << i;
    }
    EXPECT_EQ(ReferenceEntry(s, sh.m - 1, sh.n - 1), c.back());
  }
}

INSTANTIATE_TEST_SUITE_P(SmallAndOdd, GemmShapes,
                         ::testing::Values(Shape{1, 1, 1}, Shape{7, 7, 7}, Shape{129, 129, 129},
                                           Shape{1, 129, 7}, Shape{129, 7, 1}, Shape{7, 1, 129}));

TEST(GemmVerify, InputsAreExactEighthsInRange) {
  std::set<float> seen;
  for (int i = 0; i < 2000; ++i) {
    const float v = GemmInputA(9, i / 50, i % 50);
    ASSERT_GE(v, -1.0f);
    ASSERT_LE(v, 1.0f);
    ASSERT_EQ(v * 8.0f, static_cast<float>(static_cast<int>(v * 8.0f)));
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 17u);  // every multiple of 1/8 in [-1, 1] occurs
  EXPECT_NE(GemmInputA(9, 3, 4), GemmInputB(9, 3, 4) + 2.0f);
}

TEST(GemmVerify, LongestAllowedKStaysExact) {
  const GemmSpec s = Spec(2, 2, 32768);
  const std::vector<double> want = NaiveGemm(s);
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 2; ++j) {
      EXPECT_EQ(static_cast<double>(ReferenceEntry(s, i, j)), want[i * 2 + j]);
    }
  }
}

TEST(GemmVerify, DigestIgnoresOrderAndSignOfZeroButSeesOneChange) {
  const GemmSpec s = Spec(7, 129, 7);
  std::vector<float> c = GemmCpu(s);
  const uint64_t d = DigestOf(c.data(), s.m, s.n);
  uint64_t backwards = 0;
  for (int64_t i = s.m * s.n; i-- > 0;) backwards += DigestTerm(i / s.n, i % s.n, c[i]);
  EXPECT_EQ(d, backwards);
  EXPECT_EQ(DigestTerm(3, 4, 0.0f), DigestTerm(3, 4, -0.0f));
  EXPECT_NE(DigestTerm(3, 4, 1.0f), DigestTerm(4, 3, 1.0f));
  c[100] = FlipLowestBit(c[100]);
  EXPECT_NE(DigestOf(c.data(), s.m, s.n), d);
}

TEST(GemmVerify, AcceptsACorrectReport) {
  GemmSpec s = Spec(64, 96, 80);
  s.samples = 32;
  auto r = RunVerificationGemm(s, Device::kCpu);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->engine, "cpu");
  EXPECT_EQ(r->samples.size(), 32u);
  const std::vector<float> c = GemmCpu(s);
  EXPECT_EQ(r->digest, DigestOf(c.data(), s.m, s.n));
  EXPECT_TRUE(VerifyGemmSamples(s, *r).ok());
}

TEST(GemmVerify, RejectsASingleFlippedEntry) {
  GemmSpec s = Spec(33, 17, 65);
  s.samples = 16;
  auto r = RunVerificationGemm(s, Device::kCpu);
  ASSERT_TRUE(r.ok());
  for (size_t i = 0; i < r->samples.size(); ++i) {
    GemmReport bad = *r;
    bad.samples[i].value = FlipLowestBit(bad.samples[i].value);
    const Status st = VerifyGemmSamples(s, bad);
    ASSERT_EQ(st.code(), Status::Code::kInvalid) << "sample " << i;
    EXPECT_NE(st.message().find("expected"), std::string::npos) << st.message();
  }
  GemmReport negated = *r;
  negated.samples[3].value = -negated.samples[3].value + 0.125f;
  EXPECT_FALSE(VerifyGemmSamples(s, negated).ok());
}

TEST(GemmVerify, RejectsWrongPositionsAndCounts) {
  GemmSpec s = Spec(50, 60, 10);
  auto r = RunVerificationGemm(s, Device::kCpu);
  ASSERT_TRUE(r.ok());
  GemmReport moved = *r;
  moved.samples[0].row = (moved.samples[0].row + 1) % s.m;
  EXPECT_NE(VerifyGemmSamples(s, moved).message().find("challenge asked for"), std::string::npos);
  GemmReport fewer = *r;
  fewer.samples.pop_back();
  EXPECT_EQ(VerifyGemmSamples(s, fewer).code(), Status::Code::kInvalid);
  // A report made for another challenge does not pass for this one.
  GemmSpec other = s;
  other.challenge ^= 0xdeadbeef;
  EXPECT_FALSE(VerifyGemmSamples(other, *r).ok());
  EXPECT_NE(SamplePositions(other), SamplePositions(s));
}

TEST(GemmVerify, ValidatesTheSpec) {
  struct Case {
    GemmSpec spec;
    const char* field;
  };
  GemmSpec ok = Spec(4, 4, 4);
  std::vector<Case> cases;
  cases.push_back({Spec(0, 4, 4), "gemm m"});
  cases.push_back({Spec(4, 70000, 4), "gemm n"});
  cases.push_back({Spec(4, 4, 32769), "gemm k"});
  GemmSpec samples = ok;
  samples.samples = -1;
  cases.push_back({samples, "gemm samples"});
  GemmSpec seconds = ok;
  seconds.seconds = -1;
  cases.push_back({seconds, "gemm seconds"});
  for (const Case& c : cases) {
    const Status st = ValidateGemmSpec(c.spec);
    EXPECT_EQ(st.code(), Status::Code::kInvalid) << c.field;
    EXPECT_EQ(st.message().rfind(c.field, 0), 0u) << st.message();
    EXPECT_FALSE(RunVerificationGemm(c.spec, Device::kCpu).ok());
  }
  EXPECT_TRUE(ValidateGemmSpec(ok).ok());
}

TEST(GemmVerify, RunsForTheRequestedTime) {
  GemmSpec s = Spec(32, 32, 32);
  s.seconds = 0.05;
  auto r = RunVerificationGemm(s, Device::kCpu);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->iterations, 1);
  EXPECT_GE(r->seconds, 0.05);
  EXPECT_GT(r->tflops, 0.0);
}

}  // namespace
}  // namespace corral::kernels
