// Dense layers and the FP32 GEMM behind them: y = act(x·W + b) with the bias and activation fused
// into the GEMM's epilogue, plus the transposed products and column sums a backward pass needs.
// All matrices are row-major and packed.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/status.h"
#include "kernels/seeded.h"

namespace corral::kernels {

enum class Activation { kIdentity, kGelu };

// GELU, the exact (erf) form: z·Φ(z).
CORRAL_HD float Gelu(float z) {
  return 0.5f * z * (1.0f + erff(z * 0.70710678118654752f));
}

// d/dz GELU(z) = Φ(z) + z·φ(z).
CORRAL_HD float GeluGrad(float z) {
  const float cdf = 0.5f * (1.0f + erff(z * 0.70710678118654752f));
  const float pdf = 0.39894228040143268f * expf(-0.5f * z * z);
  return cdf + z * pdf;
}

CORRAL_HD float Activate(Activation act, float z) {
  return act == Activation::kGelu ? Gelu(z) : z;
}

// y (rows×out) = act(x (rows×in) · w (in×out) + b). `b` may be null (no bias); `pre`, when not
// null, receives the pre-activation x·w + b.
void DenseCpu(const float* x, int64_t rows, int64_t in, const float* w, const float* b, int64_t out,
              Activation act, float* y, float* pre = nullptr);

// c (m×n) = op(a)·op(b) + beta·c, where op(a) is m×k (a stored k×m when ta) and op(b) is k×n
// (b stored n×k when tb).
void GemmF32Cpu(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                float beta, float* c);

// out[j] = Σ_r x[r][j] for x rows×cols (bias gradients).
void ColumnSumsCpu(const float* x, int64_t rows, int64_t cols, float* out);

namespace gpu {

// Device-pointer versions of the above, enqueued on the current device's default stream. They
// return Internal on a launch error; results are ready after the next synchronizing call.
Status Dense(const float* x, int64_t rows, int64_t in, const float* w, const float* b, int64_t out,
             Activation act, float* y, float* pre = nullptr);
Status GemmF32(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
               float beta, float* c);
Status ColumnSums(const float* x, int64_t rows, int64_t cols, float* out);

// DenseCpu's contract on host arrays, computed by the GPU kernel (for tests).
Status DenseOnDevice(const float* x, int64_t rows, int64_t in, const float* w, const float* b,
                     int64_t out, Activation act, float* y, float* pre);
// GemmF32Cpu's contract on host arrays, computed by the GPU kernel (for tests).
Status GemmF32OnDevice(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
                       const float* b, float beta, float* c);

}  // namespace gpu

}  // namespace corral::kernels
