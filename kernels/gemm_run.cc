// RunVerificationGemm: the CPU twin here, the GPU engines in gemm_verify.cu (or no_cuda.cc).
#include <chrono>

#include "kernels/gemm_verify.h"

namespace corral::kernels {

namespace {

Result<GemmReport> RunCpu(const GemmSpec& spec, std::vector<float>* c_out) {
  using Clock = std::chrono::steady_clock;
  GemmReport r;
  r.engine = "cpu";
  std::vector<float> c;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    c = GemmCpu(spec);
    ++r.iterations;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < spec.seconds);
  r.seconds = elapsed;
  r.tflops = elapsed > 0 ? 2.0 * static_cast<double>(spec.m) * static_cast<double>(spec.n) *
                               static_cast<double>(spec.k) * static_cast<double>(r.iterations) /
                               elapsed / 1e12
                         : 0;
  r.digest = DigestOf(c.data(), spec.m, spec.n);
  for (const auto& [row, col] : SamplePositions(spec)) {
    r.samples.push_back({row, col, c[row * spec.n + col]});
  }
  if (c_out) *c_out = std::move(c);
  return r;
}

}  // namespace

Result<GemmReport> RunVerificationGemm(const GemmSpec& spec, Device device, std::vector<float>* c) {
  if (Status st = ValidateGemmSpec(spec); !st.ok()) return st;
  if (device == Device::kGpu) return gpu::RunVerificationGemm(spec, GemmEngine::kAuto, c);
  return RunCpu(spec, c);
}

}  // namespace corral::kernels
