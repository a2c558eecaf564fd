// Internal to kernels/*.cu: the Hopper verification GEMM. TMA loads tiles into shared memory,
// one producer warpgroup feeds a 4-stage mbarrier pipeline, and two consumer warpgroups multiply
// on the tensor cores with wgmma (m64n256k16, FP32 accumulate). Needs an sm_90a build and a
// compute capability 9.0 device.
#pragma once

#include <cuda.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>

#include "common/status.h"
#include "kernels/gemm_verify.h"

namespace corral::kernels::sm90 {

// m % 128 == 0, n % 256 == 0, k % 64 == 0.
bool ShapeSupported(int64_t m, int64_t n, int64_t k);

// True when this binary holds sm_90a code for the kernel and the current device runs it.
bool DeviceSupported();

// Tensor maps for A (m×k) and B^T (n×k), both row-major and K-major, encoded once per operand
// pair. Errors: FailedPrecondition for an unsupported shape, Internal when the driver refuses.
struct Plan {
  CUtensorMap map_a;
  CUtensorMap map_b;
  GemmPrecision precision = GemmPrecision::kBf16;
  int m = 0;
  int n = 0;
  int k = 0;
  // Keep one K block's products in flight while the next block's are issued (the default), or
  // wait for each block's before the next; the benchmark measures both.
  bool overlap = true;
};
Result<std::unique_ptr<Plan>> MakePlan(GemmPrecision precision, const void* a, const void* bt,
                                       int64_t m, int64_t n, int64_t k);

// Enqueues C (row-major m×n FP32) = A·B on `stream`.
Status Launch(const Plan& plan, float* c, cudaStream_t stream);

}  // namespace corral::kernels::sm90
