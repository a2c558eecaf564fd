// Every GPU kernel against its CPU twin. Skipped, with the reason, where no GPU is present; run
// by scripts/device-check on a GPU machine.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gpu_skip.h"
#include "kernels/dense.h"
#include "kernels/gemm_commit.h"
#include "kernels/gemm_device.h"
#include "kernels/gemm_verify.h"
#include "kernels/mlp.h"
#include "kernels/rollout.h"
#include "kernels/seeded.h"
#include "kernels/train_step.h"
#include "kernels/triad.h"
#ifdef CORRAL_HAVE_NCCL
#include "kernels/nccl_comm.h"
#endif
#ifdef CORRAL_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "kernels/gemm_sm90.h"
#endif
#include "kernels/policy.h"

namespace corral::kernels {
namespace {

std::vector<float> Random(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = Symmetric(Hash(seed, i));
  return v;
}

struct Dims {
  int64_t a, b, c;
};

// Copies out.size() floats of device memory into out.
bool ReadDevice(const float* src, std::vector<float>& out) {
#ifdef CORRAL_HAVE_CUDA
  return cudaMemcpy(out.data(), src, out.size() * sizeof(float), cudaMemcpyDeviceToHost) ==
         cudaSuccess;
#else
  (void)src;
  (void)out;
  return false;
#endif
}

GemmSpec Spec(int64_t m, int64_t n, int64_t k, GemmPrecision p) {
  GemmSpec s;
  s.m = m;
  s.n = n;
  s.k = k;
  s.precision = p;
  s.seed = 1234 + m + n + k;
  s.challenge = 99;
  s.samples = 64;
  return s;
}

// The whole of C from `engine` equals the CPU twin bit for bit, and so does the digest.
void ExpectGemmExact(const GemmSpec& s, GemmEngine engine) {
  auto g = DeviceGemm::Create(s);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto t = (*g)->Time(engine, 1);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto c = (*g)->ReadC();
  ASSERT_TRUE(c.ok());
  const std::vector<float> want = GemmCpu(s);
  size_t wrong = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if ((*c)[i] != want[i] && wrong++ < 5) {
      ADD_FAILURE() << GemmEngineName(engine) << " " << s.m << "x" << s.n << "x" << s.k << " C["
                    << i / s.n << "][" << i % s.n << "] = " << (*c)[i] << ", want " << want[i];
    }
  }
  EXPECT_EQ(wrong, 0u);
  auto report = (*g)->Report();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->digest, DigestOf(want.data(), s.m, s.n));
  EXPECT_TRUE(VerifyGemmSamples(s, *report).ok());
}

TEST(GpuGemm, WmmaMatchesTwinOnOddShapes) {
  CORRAL_REQUIRE_GPU();
  for (GemmPrecision p : {GemmPrecision::kBf16, GemmPrecision::kFp16}) {
    for (Dims d : std::vector<Dims>{
             {1, 1, 1}, {7, 7, 7}, {129, 129, 129}, {129, 257, 65}, {1, 129, 7}, {200, 64, 136}}) {
      ExpectGemmExact(Spec(d.a, d.b, d.c, p), GemmEngine::kWmma);
    }
  }
}

TEST(GpuGemm, Sm90MatchesTwin) {
  CORRAL_REQUIRE_GPU();
  auto probe = DeviceGemm::Create(Spec(128, 256, 64, GemmPrecision::kBf16));
  ASSERT_TRUE(probe.ok());
  if (!(*probe)->Resolve(GemmEngine::kSm90).ok()) {
    GTEST_SKIP() << (*probe)->Resolve(GemmEngine::kSm90).status().message();
  }
  for (GemmPrecision p : {GemmPrecision::kBf16, GemmPrecision::kFp16}) {
    // One tile; several; the K pipeline wrapping its 4 stages; one full group of 16 tile rows;
    // 18 tile rows (a partial last group of the rasterization) with 5 K blocks.
    for (Dims d : std::vector<Dims>{{128, 256, 64},
                                    {256, 512, 192},
                                    {384, 768, 1024},
                                    {2048, 256, 128},
                                    {2304, 512, 320}}) {
      ExpectGemmExact(Spec(d.a, d.b, d.c, p), GemmEngine::kSm90);
    }
  }
}

// The Hopper kernel's other pipeline (each K block's products waited for before the next block's
// are issued), which the benchmark measures beside the default.
TEST(GpuGemm, Sm90SerialPipelineMatchesTwin) {
  CORRAL_REQUIRE_GPU();
#ifdef CORRAL_HAVE_CUDA
  for (Dims d : std::vector<Dims>{{128, 256, 64}, {384, 768, 1024}, {2304, 512, 320}}) {
    const GemmSpec s = Spec(d.a, d.b, d.c, GemmPrecision::kBf16);
    auto g = DeviceGemm::Create(s);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    if (!(*g)->Resolve(GemmEngine::kSm90).ok()) {
      GTEST_SKIP() << (*g)->Resolve(GemmEngine::kSm90).status().message();
    }
    auto plan = sm90::MakePlan(s.precision, (*g)->a(), (*g)->bt(), s.m, s.n, s.k);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    (*plan)->overlap = false;
    ASSERT_TRUE(sm90::Launch(**plan, (*g)->c(), nullptr).ok());
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    auto c = (*g)->ReadC();
    ASSERT_TRUE(c.ok());
    const std::vector<float> want = GemmCpu(s);
    size_t wrong = 0;
    for (size_t i = 0; i < want.size(); ++i) wrong += (*c)[i] != want[i];
    EXPECT_EQ(wrong, 0u) << s.m << "x" << s.n << "x" << s.k;
  }
#endif
}

// What corral-node commits to at attach: the GPU's whole C, read back, has the very root of the
// CPU twin's C (both are exact), so any leaf of it opens against the twin's commitment.
TEST(GpuGemm, CommittedProductHasTheTwinsRoot) {
  CORRAL_REQUIRE_GPU();
  GemmSpec s = Spec(512, 512, 512, GemmPrecision::kBf16);
  s.samples = 0;
  std::vector<float> c;
  auto gpu = RunVerificationGemm(s, Device::kGpu, &c);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  ASSERT_EQ(c.size(), 512u * 512u);
  const std::vector<float> want = GemmCpu(s);
  const GemmCommitment ours = GemmCommitment::Build(c.data(), 512, 512);
  EXPECT_EQ(HexDigest(ours.root()), HexDigest(GemmCommitment::Build(want.data(), 512, 512).root()))
      << "engine " << gpu->engine;
  float v = 0;
  EXPECT_TRUE(
      VerifyLeafOpening(ours.root(), 512, 512, 300, 400, ours.Open(c.data(), 300, 400), &v).ok());
  EXPECT_EQ(v, want[300 * 512 + 400]);
}

TEST(GpuGemm, VerificationRunAgreesWithCpuAndIsChecked) {
  CORRAL_REQUIRE_GPU();
  GemmSpec s = Spec(1024, 1024, 1024, GemmPrecision::kBf16);
  s.seconds = 0.2;
  auto gpu = RunVerificationGemm(s, Device::kGpu);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  EXPECT_TRUE(VerifyGemmSamples(s, *gpu).ok());
  EXPECT_GT(gpu->iterations, 1);
  EXPECT_GT(gpu->tflops, 0);
  // A 1024³ twin on the CPU takes about a second; the digest must match it bit for bit.
  const std::vector<float> c = GemmCpu(s);
  EXPECT_EQ(gpu->digest, DigestOf(c.data(), s.m, s.n)) << "engine " << gpu->engine;
  GemmReport tampered = *gpu;
  tampered.samples[7].value += 0.015625f;
  EXPECT_FALSE(VerifyGemmSamples(s, tampered).ok());
}

TEST(GpuTriad, MatchesTwinOnOddLengths) {
  CORRAL_REQUIRE_GPU();
  for (int64_t n : {1, 7, 129, (1 << 20) + 3}) {
    const auto b = Random(n, 1), c = Random(n, 2);
    std::vector<float> got(n), want(n);
    ASSERT_TRUE(gpu::TriadOnDevice(got.data(), b.data(), c.data(), 3.0f, n).ok());
    TriadCpu(want.data(), b.data(), c.data(), 3.0f, n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-6f * (1 + std::abs(want[i]))) << "n=" << n << " i=" << i;
    }
  }
  TriadSpec spec;
  spec.elements = 1 << 22;
  auto r = RunTriad(spec, Device::kGpu);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->verified);
  EXPECT_GT(r->triad_gbps, 0);
  EXPECT_GT(r->copy_gbps, 0);
}

TEST(GpuDense, MatchesTwinOnOddShapes) {
  CORRAL_REQUIRE_GPU();
  for (Dims d : std::vector<Dims>{{1, 1, 1},
                                  {7, 7, 7},
                                  {129, 7, 1},
                                  {1, 129, 7},
                                  {7, 1, 129},
                                  {129, 129, 129},
                                  {300, 65, 200}}) {
    const int64_t rows = d.a, in = d.b, out = d.c;
    const auto x = Random(rows * in, 3), w = Random(in * out, 4), b = Random(out, 5);
    for (Activation act : {Activation::kIdentity, Activation::kGelu}) {
      std::vector<float> y(rows * out), pre(rows * out), ywant(rows * out), prewant(rows * out);
      ASSERT_TRUE(
          gpu::DenseOnDevice(x.data(), rows, in, w.data(), b.data(), out, act, y.data(), pre.data())
              .ok());
      DenseCpu(x.data(), rows, in, w.data(), b.data(), out, act, ywant.data(), prewant.data());
      for (size_t i = 0; i < y.size(); ++i) {
        ASSERT_NEAR(pre[i], prewant[i], 1e-4f * (1 + std::abs(prewant[i])));
        ASSERT_NEAR(y[i], ywant[i], 1e-4f * (1 + std::abs(ywant[i])));
      }
    }
  }
}

TEST(GpuDense, GemmF32TransposesMatchTwin) {
  CORRAL_REQUIRE_GPU();
  const int64_t m = 129, n = 7, k = 65;
  const auto a = Random(m * k, 6), b = Random(k * n, 7), c0 = Random(m * n, 8);
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      std::vector<float> got = c0, want = c0;
      ASSERT_TRUE(gpu::GemmF32OnDevice(ta, tb, m, n, k, a.data(), b.data(), 1.0f, got.data()).ok());
      GemmF32Cpu(ta, tb, m, n, k, a.data(), b.data(), 1.0f, want.data());
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4f) << ta << tb;
    }
  }
}

TEST(GpuMlp, ForwardMatchesTwin) {
  CORRAL_REQUIRE_GPU();
  const Mlp m = MlpSeeded({64, 128, 128, 10}, 3);
  const auto x = Random(129 * 64, 9);
  auto got = MlpForward(m, x.data(), 129, Device::kGpu);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const auto want = MlpForwardCpu(m, x.data(), 129);
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR((*got)[i], want[i], 1e-4f * (1 + std::abs(want[i])));
}

TEST(GpuTrainStep, GradientsAndUpdateMatchTwin) {
  CORRAL_REQUIRE_GPU();
  const Mlp m = MlpSeeded({7, 33, 17, 3}, 4);
  const int64_t rows = 129;
  const auto x = Random(rows * 7, 10), y = Random(rows * 3, 11);
  auto step = TrainStep::Create(m, rows, Device::kGpu);
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  ASSERT_TRUE((*step)->OnDevice());
  ASSERT_TRUE((*step)->Backward(x.data(), y.data(), rows).ok());
  std::vector<float> got(static_cast<size_t>((*step)->BufferSize()));
  ASSERT_TRUE(ReadDevice((*step)->GradientBuffer(), got));
  std::vector<float> want(m.params.size());
  const float loss = LossAndGradientCpu(m, x.data(), y.data(), rows, want.data());
  EXPECT_NEAR(got.back(), loss, 1e-4f * (1 + loss));
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], 1e-3f * (1 + std::abs(want[i]))) << "parameter " << i;
  }
  auto mean = (*step)->Apply(0.05f, rows);
  ASSERT_TRUE(mean.ok());
  EXPECT_NEAR(*mean, loss / rows, 1e-5f * (1 + loss));
  auto params = (*step)->Params();
  ASSERT_TRUE(params.ok());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR((*params)[i], m.params[i] - 0.05f / rows * want[i], 1e-5f);
  }
}

TEST(GpuRollout, MatchesTwin) {
  CORRAL_REQUIRE_GPU();
  const int hidden = 32;
  const auto policy = PolicySeeded(hidden, 6);
  RolloutSpec spec;
  spec.envs = 256;
  spec.first_env = 1000;
  spec.max_steps = 500;
  spec.seed = 8;
  auto got = CollectRollouts(spec, policy, hidden, Device::kGpu);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const Rollout want = CollectRolloutsCpu(spec, policy, hidden);
  // tanhf/expf may differ in the last bit between host and device, which can flip a sampled
  // action whose draw falls within an ulp of its probability: allow a rare divergent episode.
  int same = 0;
  for (int e = 0; e < spec.envs; ++e) same += got->lengths[e] == want.lengths[e];
  EXPECT_GE(same, spec.envs * 97 / 100);
  EXPECT_NEAR(got->MeanReturn(), want.MeanReturn(), 0.05 * want.MeanReturn());
}

#ifdef CORRAL_HAVE_NCCL
TEST(GpuNccl, SingleRankAllreduceKeepsData) {
  CORRAL_REQUIRE_GPU();
  auto id = NcclComm::NewUniqueId();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto comm = NcclComm::Create(*id, 1, 0);
  ASSERT_TRUE(comm.ok()) << comm.status().ToString();
  const Mlp m = MlpSeeded({3, 4, 1}, 1);
  auto step = TrainStep::Create(m, 2, Device::kGpu);
  ASSERT_TRUE(step.ok());
  const float x[6] = {1, 2, 3, 4, 5, 6}, y[2] = {1, -1};
  ASSERT_TRUE((*step)->Backward(x, y, 2).ok());
  std::vector<float> before(static_cast<size_t>((*step)->BufferSize())), after(before.size());
  ASSERT_TRUE(ReadDevice((*step)->GradientBuffer(), before));
  ASSERT_TRUE((*comm)->AllreduceSum((*step)->GradientBuffer(), (*step)->BufferSize()).ok());
  ASSERT_TRUE((*comm)->Broadcast((*step)->GradientBuffer(), (*step)->BufferSize(), 0).ok());
  ASSERT_TRUE(ReadDevice((*step)->GradientBuffer(), after));
  EXPECT_EQ(before, after);
}
#endif

}  // namespace
}  // namespace corral::kernels
