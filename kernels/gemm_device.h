// GPU-resident operands of a verification GEMM, for the benchmark and tests that run other GEMMs
// (cuBLAS) or several engines on the very same data. GPU only: every call fails with
// FailedPrecondition when there is no GPU or the library was built without CUDA.
#pragma once

#include <memory>

#include "common/status.h"
#include "kernels/gemm_verify.h"

namespace corral::kernels {

// "sm90-wgmma-tma", "wmma" or "auto".
const char* GemmEngineName(GemmEngine engine);

class DeviceGemm {
 public:
  // Allocates A (m×k), B^T (n×k) and C (m×n) on the current GPU and fills A and B from
  // spec.seed there. Errors: Invalid spec, Unavailable when memory runs out.
  static Result<std::unique_ptr<DeviceGemm>> Create(const GemmSpec& spec);
  ~DeviceGemm();

  const GemmSpec& spec() const;
  const void* a() const;   // row-major m×k, BF16 or FP16 per spec.precision
  const void* bt() const;  // row-major n×k (B transposed), so both operands are K-major
  float* c();              // row-major m×n, FP32

  // The engine that kAuto means here; kSm90 on an unsupported device or shape is
  // FailedPrecondition.
  Result<GemmEngine> Resolve(GemmEngine engine) const;

  // Runs `iterations` products back to back into C and returns the mean seconds per product,
  // timed with CUDA events.
  Result<double> Time(GemmEngine engine, int iterations);

  // Digest and sampled entries of the current C (iterations, seconds and tflops left 0).
  Result<GemmReport> Report() const;

  // All of C, for tests on small shapes.
  Result<std::vector<float>> ReadC() const;

 private:
  struct Impl;
  explicit DeviceGemm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::kernels
