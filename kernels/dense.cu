// The FP32 GEMM kernel with a fused epilogue (bias, GELU, saved pre-activation, beta·C). A 64×64
// block tile, K steps of 16, and a 4×4 register tile per thread; transposes are template
// parameters so every load stays coalesced.
#include <vector>

#include "kernels/cuda_call.h"
#include "kernels/dense.h"

namespace corral::kernels {

namespace {

constexpr int kTile = 64;
constexpr int kStep = 16;
constexpr int kThreads = 256;

struct Epilogue {
  const float* bias = nullptr;
  Activation act = Activation::kIdentity;
  float* pre = nullptr;
  float beta = 0.0f;
};

template <bool TA, bool TB>
__global__ void __launch_bounds__(kThreads)
    SgemmKernel(int64_t m, int64_t n, int64_t k, const float* __restrict__ a,
                const float* __restrict__ b, float* __restrict__ c, Epilogue ep) {
  __shared__ float sa[kStep][kTile + 4];
  __shared__ float sb[kStep][kTile + 4];
  const int tx = static_cast<int>(threadIdx.x) % 16;
  const int ty = static_cast<int>(threadIdx.x) / 16;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t col0 = static_cast<int64_t>(blockIdx.y) * kTile;
  float acc[4][4] = {};

  for (int64_t k0 = 0; k0 < k; k0 += kStep) {
    for (int e = static_cast<int>(threadIdx.x); e < kTile * kStep; e += kThreads) {
      int r, kk;
      if (TA) {  // a stored k×m: consecutive threads walk m
        kk = e / kTile;
        r = e % kTile;
      } else {
        r = e / kStep;
        kk = e % kStep;
      }
      const int64_t gr = row0 + r, gk = k0 + kk;
      float v = 0.0f;
      if (gr < m && gk < k) v = TA ? a[gk * m + gr] : a[gr * k + gk];
      sa[kk][r] = v;
    }
    for (int e = static_cast<int>(threadIdx.x); e < kTile * kStep; e += kThreads) {
      int col, kk;
      if (TB) {  // b stored n×k: consecutive threads walk k
        col = e / kStep;
        kk = e % kStep;
      } else {
        kk = e / kTile;
        col = e % kTile;
      }
      const int64_t gc = col0 + col, gk = k0 + kk;
      float v = 0.0f;
      if (gc < n && gk < k) v = TB ? b[gc * k + gk] : b[gk * n + gc];
      sb[kk][col] = v;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kStep; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = sa[kk][ty * 4 + i];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = sb[kk][tx * 4 + j];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t r = row0 + ty * 4 + i;
    if (r >= m) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t col = col0 + tx * 4 + j;
      if (col >= n) continue;
      float z = acc[i][j];
      if (ep.bias) z += ep.bias[col];
      if (ep.beta != 0.0f) z += ep.beta * c[r * n + col];
      if (ep.pre) ep.pre[r * n + col] = z;
      c[r * n + col] = Activate(ep.act, z);
    }
  }
}

// Block (32, 32): each block sums 32 columns; its 32 rows of threads stride down the rows, and
// their partial sums are added in a fixed order, so the result is the same on every run.
__global__ void ColumnSumsKernel(const float* __restrict__ x, int64_t rows, int64_t cols,
                                 float* __restrict__ out) {
  __shared__ float part[32][33];
  const int64_t j = blockIdx.x * static_cast<int64_t>(32) + threadIdx.x;
  float sum = 0.0f;
  if (j < cols) {
    for (int64_t r = threadIdx.y; r < rows; r += 32) sum += x[r * cols + j];
  }
  part[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && j < cols) {
    float total = 0.0f;
    for (int y = 0; y < 32; ++y) total += part[y][threadIdx.x];
    out[j] = total;
  }
}

Status LaunchGemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                  float* c, const Epilogue& ep) {
  if (m <= 0 || n <= 0) return Status::Ok();
  // Row tiles on x (up to 2^31 - 1 blocks), column tiles on y (at most 65535): a batch of any
  // size fits, and so does any layer narrower than 4 million columns.
  const int64_t col_tiles = (n + kTile - 1) / kTile;
  if (col_tiles > 65535) {
    return Status::Invalid("FP32 GEMM: n = " + std::to_string(n) + " is above 4194240 columns");
  }
  const dim3 grid(static_cast<unsigned>((m + kTile - 1) / kTile), static_cast<unsigned>(col_tiles));
  if (ta && tb) {
    SgemmKernel<true, true><<<grid, kThreads>>>(m, n, k, a, b, c, ep);
  } else if (ta) {
    SgemmKernel<true, false><<<grid, kThreads>>>(m, n, k, a, b, c, ep);
  } else if (tb) {
    SgemmKernel<false, true><<<grid, kThreads>>>(m, n, k, a, b, c, ep);
  } else {
    SgemmKernel<false, false><<<grid, kThreads>>>(m, n, k, a, b, c, ep);
  }
  return CudaStatus("FP32 GEMM launch", cudaGetLastError());
}

}  // namespace

namespace gpu {

Status Dense(const float* x, int64_t rows, int64_t in, const float* w, const float* b, int64_t out,
             Activation act, float* y, float* pre) {
  Epilogue ep;
  ep.bias = b;
  ep.act = act;
  ep.pre = pre;
  return LaunchGemm(false, false, rows, out, in, x, w, y, ep);
}

Status GemmF32(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
               float beta, float* c) {
  Epilogue ep;
  ep.beta = beta;
  return LaunchGemm(ta, tb, m, n, k, a, b, c, ep);
}

Status ColumnSums(const float* x, int64_t rows, int64_t cols, float* out) {
  if (cols <= 0) return Status::Ok();
  ColumnSumsKernel<<<BlocksFor(cols, 32), dim3(32, 32)>>>(x, rows, cols, out);
  return CudaStatus("column sums launch", cudaGetLastError());
}

Status DenseOnDevice(const float* x, int64_t rows, int64_t in, const float* w, const float* b,
                     int64_t out, Activation act, float* y, float* pre) {
  CORRAL_RETURN_IF_ERROR(RequireGpu());
  DeviceBuffer<float> dx, dw, db, dy, dpre;
  CORRAL_RETURN_IF_ERROR(dx.Allocate(static_cast<size_t>(rows * in)));
  CORRAL_RETURN_IF_ERROR(dw.Allocate(static_cast<size_t>(in * out)));
  CORRAL_RETURN_IF_ERROR(dy.Allocate(static_cast<size_t>(rows * out)));
  CORRAL_RETURN_IF_ERROR(dx.CopyFromHost(x, dx.size()));
  CORRAL_RETURN_IF_ERROR(dw.CopyFromHost(w, dw.size()));
  if (b) {
    CORRAL_RETURN_IF_ERROR(db.Allocate(static_cast<size_t>(out)));
    CORRAL_RETURN_IF_ERROR(db.CopyFromHost(b, db.size()));
  }
  if (pre) CORRAL_RETURN_IF_ERROR(dpre.Allocate(dy.size()));
  CORRAL_RETURN_IF_ERROR(
      Dense(dx.get(), rows, in, dw.get(), db.get(), out, act, dy.get(), dpre.get()));
  CORRAL_RETURN_IF_ERROR(dy.CopyToHost(y, dy.size()));
  if (pre) CORRAL_RETURN_IF_ERROR(dpre.CopyToHost(pre, dpre.size()));
  return Status::Ok();
}

Status GemmF32OnDevice(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
                       const float* b, float beta, float* c) {
  CORRAL_RETURN_IF_ERROR(RequireGpu());
  DeviceBuffer<float> da, dbuf, dc;
  CORRAL_RETURN_IF_ERROR(da.Allocate(static_cast<size_t>(m * k)));
  CORRAL_RETURN_IF_ERROR(dbuf.Allocate(static_cast<size_t>(k * n)));
  CORRAL_RETURN_IF_ERROR(dc.Allocate(static_cast<size_t>(m * n)));
  CORRAL_RETURN_IF_ERROR(da.CopyFromHost(a, da.size()));
  CORRAL_RETURN_IF_ERROR(dbuf.CopyFromHost(b, dbuf.size()));
  CORRAL_RETURN_IF_ERROR(dc.CopyFromHost(c, dc.size()));
  CORRAL_RETURN_IF_ERROR(GemmF32(ta, tb, m, n, k, da.get(), dbuf.get(), beta, dc.get()));
  return dc.CopyToHost(c, dc.size());
}

}  // namespace gpu

}  // namespace corral::kernels
