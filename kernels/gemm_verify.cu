// GPU side of the verification GEMM: operands generated on the device, the generic tensor-core
// engine (WMMA, sm_80 and later, any shape), the digest, and DeviceGemm. The Hopper engine is in
// gemm_sm90.cu.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "kernels/cuda_call.h"
#include "kernels/gemm_device.h"
#include "kernels/gemm_sm90.h"
#include "kernels/gemm_verify.h"

namespace corral::kernels {

namespace {

// Element (r, col) of a row-major rows×cols operand; `transposed` stores B^T, whose element
// (j, kk) is B[kk][j].
template <typename T>
__global__ void FillKernel(T* out, int64_t rows, int64_t cols, uint64_t seed, int matrix,
                           bool transposed) {
  const int64_t total = rows * cols;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols;
    const int64_t c = i % cols;
    const float v = transposed ? GemmInput(seed, matrix, c, r) : GemmInput(seed, matrix, r, c);
    out[i] = T(v);
  }
}

constexpr int kWmBM = 128;
constexpr int kWmBN = 128;
constexpr int kWmBK = 32;
[[maybe_unused]] constexpr int kWmLd =
    kWmBK + 8;                   // padded shared-memory rows (elements): fewer bank conflicts
constexpr int kWmThreads = 256;  // 8 warps: 4 along M (32 rows each) × 2 along N (64 columns)

// C = A·B for any shape. Block tile 128×128, K step 32; bounds-checked loads and stores.
template <typename T>
__global__ void __launch_bounds__(kWmThreads)
    WmmaGemmKernel(const T* __restrict__ a, const T* __restrict__ bt, float* __restrict__ c, int m,
                   int n, int k) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  __shared__ __align__(128) T sa[kWmBM * kWmLd];
  __shared__ __align__(128) T sb[kWmBN * kWmLd];
  __shared__ __align__(128) float staging[kWmThreads / 32][16 * 16];

  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int wm = warp % 4;
  const int wn = warp / 4;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kWmBM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kWmBN;
  const bool vectorized = k % 8 == 0;

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][4];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  }

  for (int k0 = 0; k0 < k; k0 += kWmBK) {
    if (vectorized) {
      // 16-byte loads: 128 rows × 4 vectors per operand.
      for (int v = static_cast<int>(threadIdx.x); v < kWmBM * (kWmBK / 8); v += kWmThreads) {
        const int r = v / (kWmBK / 8);
        const int kk = (v % (kWmBK / 8)) * 8;
        const int64_t gk = k0 + kk;
        uint4 va = make_uint4(0, 0, 0, 0);
        uint4 vb = make_uint4(0, 0, 0, 0);
        if (row0 + r < m && gk < k) va = *reinterpret_cast<const uint4*>(a + (row0 + r) * k + gk);
        if (col0 + r < n && gk < k) vb = *reinterpret_cast<const uint4*>(bt + (col0 + r) * k + gk);
        *reinterpret_cast<uint4*>(&sa[r * kWmLd + kk]) = va;
        *reinterpret_cast<uint4*>(&sb[r * kWmLd + kk]) = vb;
      }
    } else {
      for (int i = static_cast<int>(threadIdx.x); i < kWmBM * kWmBK; i += kWmThreads) {
        const int r = i / kWmBK;
        const int kk = i % kWmBK;
        const int64_t gk = k0 + kk;
        sa[r * kWmLd + kk] = (row0 + r < m && gk < k) ? a[(row0 + r) * k + gk] : T(0.0f);
        sb[r * kWmLd + kk] = (col0 + r < n && gk < k) ? bt[(col0 + r) * k + gk] : T(0.0f);
      }
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kWmBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb[4];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        wmma::load_matrix_sync(fa[i], sa + (wm * 32 + i * 16) * kWmLd + kk, kWmLd);
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        wmma::load_matrix_sync(fb[j], sb + (wn * 64 + j * 16) * kWmLd + kk, kWmLd);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 2; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      wmma::store_matrix_sync(staging[warp], acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      for (int e = lane; e < 256; e += 32) {
        const int64_t gr = row0 + wm * 32 + i * 16 + e / 16;
        const int64_t gc = col0 + wn * 64 + j * 16 + e % 16;
        if (gr < m && gc < n) c[gr * n + gc] = staging[warp][e];
      }
      __syncwarp();
    }
  }
#else
  (void)a;
  (void)bt;
  (void)c;
  (void)m;
  (void)n;
  (void)k;
#endif
}

__global__ void DigestKernel(const float* __restrict__ c, int64_t m, int64_t n,
                             unsigned long long* out) {
  uint64_t sum = 0;
  const int64_t total = m * n;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    sum += DigestTerm(i / n, i % n, c[i]);
  }
  for (int off = 16; off > 0; off /= 2) sum += __shfl_down_sync(0xffffffffu, sum, off);
  if (threadIdx.x % 32 == 0) atomicAdd(out, static_cast<unsigned long long>(sum));
}

__global__ void GatherKernel(const float* __restrict__ c, int64_t n, const int64_t* positions,
                             int count, float* out) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < count) out[i] = c[positions[2 * i] * n + positions[2 * i + 1]];
}

int GridFor(int64_t items) {
  return static_cast<int>(std::min<int64_t>((items + 255) / 256, 65536));
}

}  // namespace

const char* GemmEngineName(GemmEngine e) {
  switch (e) {
    case GemmEngine::kSm90:
      return "sm90-wgmma-tma";
    case GemmEngine::kWmma:
      return "wmma";
    case GemmEngine::kAuto:
      break;
  }
  return "auto";
}

struct DeviceGemm::Impl {
  GemmSpec spec;
  DeviceBuffer<uint16_t> a;   // BF16 or FP16 bits
  DeviceBuffer<uint16_t> bt;  // BF16 or FP16 bits
  DeviceBuffer<float> c;
  std::unique_ptr<sm90::Plan> plan;
  int compute_major = 0;
  bool sm90_checked = false;
  bool sm90_ok = false;
};

DeviceGemm::DeviceGemm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeviceGemm::~DeviceGemm() = default;

const GemmSpec& DeviceGemm::spec() const {
  return impl_->spec;
}
const void* DeviceGemm::a() const {
  return impl_->a.get();
}
const void* DeviceGemm::bt() const {
  return impl_->bt.get();
}
float* DeviceGemm::c() {
  return impl_->c.get();
}

Result<std::unique_ptr<DeviceGemm>> DeviceGemm::Create(const GemmSpec& spec) {
  CORRAL_RETURN_IF_ERROR(ValidateGemmSpec(spec));
  CORRAL_RETURN_IF_ERROR(RequireGpu());
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  int dev = 0;
  CORRAL_CUDA_TRY(cudaGetDevice(&dev));
  CORRAL_CUDA_TRY(
      cudaDeviceGetAttribute(&impl->compute_major, cudaDevAttrComputeCapabilityMajor, dev));
  CORRAL_RETURN_IF_ERROR(impl->a.Allocate(static_cast<size_t>(spec.m * spec.k)));
  CORRAL_RETURN_IF_ERROR(impl->bt.Allocate(static_cast<size_t>(spec.n * spec.k)));
  CORRAL_RETURN_IF_ERROR(impl->c.Allocate(static_cast<size_t>(spec.m * spec.n)));
  if (spec.precision == GemmPrecision::kBf16) {
    auto* a = reinterpret_cast<__nv_bfloat16*>(impl->a.get());
    auto* bt = reinterpret_cast<__nv_bfloat16*>(impl->bt.get());
    FillKernel<<<GridFor(spec.m * spec.k), 256>>>(a, spec.m, spec.k, spec.seed, 0, false);
    FillKernel<<<GridFor(spec.n * spec.k), 256>>>(bt, spec.n, spec.k, spec.seed, 1, true);
  } else {
    auto* a = reinterpret_cast<__half*>(impl->a.get());
    auto* bt = reinterpret_cast<__half*>(impl->bt.get());
    FillKernel<<<GridFor(spec.m * spec.k), 256>>>(a, spec.m, spec.k, spec.seed, 0, false);
    FillKernel<<<GridFor(spec.n * spec.k), 256>>>(bt, spec.n, spec.k, spec.seed, 1, true);
  }
  CORRAL_CUDA_TRY(cudaGetLastError());
  CORRAL_CUDA_TRY(cudaMemset(impl->c.get(), 0, impl->c.size() * sizeof(float)));
  CORRAL_CUDA_TRY(cudaDeviceSynchronize());
  return std::unique_ptr<DeviceGemm>(new DeviceGemm(std::move(impl)));
}

Result<GemmEngine> DeviceGemm::Resolve(GemmEngine engine) const {
  Impl& d = *impl_;
  if (d.compute_major < 8) {
    return Status::FailedPrecondition(
        "verification GEMM: BF16/FP16 tensor cores need compute capability 8.0 or later");
  }
  const GemmSpec& s = d.spec;
  if (engine != GemmEngine::kWmma) {
    if (!d.sm90_checked) {
      d.sm90_ok = sm90::DeviceSupported();
      d.sm90_checked = true;
    }
    const bool fits = sm90::ShapeSupported(s.m, s.n, s.k);
    if (d.sm90_ok && fits) return GemmEngine::kSm90;
    if (engine == GemmEngine::kSm90) {
      return Status::FailedPrecondition(
          !d.sm90_ok ? "sm90 GEMM: needs a compute capability 9.0 GPU and an sm_90a build"
                     : "sm90 GEMM: needs m % 128 == 0, n % 256 == 0 and k % 64 == 0");
    }
  }
  return GemmEngine::kWmma;
}

Result<double> DeviceGemm::Time(GemmEngine engine, int iterations) {
  auto resolved = Resolve(engine);
  if (!resolved.ok()) return resolved.status();
  Impl& d = *impl_;
  const GemmSpec& s = d.spec;
  if (*resolved == GemmEngine::kSm90 && !d.plan) {
    auto plan = sm90::MakePlan(s.precision, d.a.get(), d.bt.get(), s.m, s.n, s.k);
    if (!plan.ok()) return plan.status();
    d.plan = std::move(*plan);
  }
  EventTimer timer;
  CORRAL_RETURN_IF_ERROR(timer.Start());
  const dim3 grid(static_cast<unsigned>((s.n + kWmBN - 1) / kWmBN),
                  static_cast<unsigned>((s.m + kWmBM - 1) / kWmBM));
  for (int i = 0; i < std::max(iterations, 1); ++i) {
    if (*resolved == GemmEngine::kSm90) {
      CORRAL_RETURN_IF_ERROR(sm90::Launch(*d.plan, d.c.get(), nullptr));
    } else if (s.precision == GemmPrecision::kBf16) {
      WmmaGemmKernel<<<grid, kWmThreads>>>(reinterpret_cast<const __nv_bfloat16*>(d.a.get()),
                                           reinterpret_cast<const __nv_bfloat16*>(d.bt.get()),
                                           d.c.get(), static_cast<int>(s.m), static_cast<int>(s.n),
                                           static_cast<int>(s.k));
      CORRAL_CUDA_TRY(cudaGetLastError());
    } else {
      WmmaGemmKernel<<<grid, kWmThreads>>>(
          reinterpret_cast<const __half*>(d.a.get()), reinterpret_cast<const __half*>(d.bt.get()),
          d.c.get(), static_cast<int>(s.m), static_cast<int>(s.n), static_cast<int>(s.k));
      CORRAL_CUDA_TRY(cudaGetLastError());
    }
  }
  auto elapsed = timer.Stop();
  if (!elapsed.ok()) return elapsed.status();
  return *elapsed / std::max(iterations, 1);
}

Result<GemmReport> DeviceGemm::Report() const {
  const Impl& d = *impl_;
  const GemmSpec& s = d.spec;
  GemmReport r;
  DeviceBuffer<unsigned long long> sum;
  CORRAL_RETURN_IF_ERROR(sum.Allocate(1));
  CORRAL_CUDA_TRY(cudaMemset(sum.get(), 0, sizeof(unsigned long long)));
  DigestKernel<<<GridFor(s.m * s.n), 256>>>(d.c.get(), s.m, s.n, sum.get());
  CORRAL_CUDA_TRY(cudaGetLastError());
  unsigned long long digest = 0;
  CORRAL_RETURN_IF_ERROR(sum.CopyToHost(&digest, 1));
  r.digest = digest;

  const auto positions = SamplePositions(s);
  if (!positions.empty()) {
    std::vector<int64_t> flat;
    for (const auto& [row, col] : positions) {
      flat.push_back(row);
      flat.push_back(col);
    }
    DeviceBuffer<int64_t> pos;
    DeviceBuffer<float> vals;
    CORRAL_RETURN_IF_ERROR(pos.Allocate(flat.size()));
    CORRAL_RETURN_IF_ERROR(vals.Allocate(positions.size()));
    CORRAL_RETURN_IF_ERROR(pos.CopyFromHost(flat.data(), flat.size()));
    const int count = static_cast<int>(positions.size());
    GatherKernel<<<(count + 127) / 128, 128>>>(d.c.get(), s.n, pos.get(), count, vals.get());
    CORRAL_CUDA_TRY(cudaGetLastError());
    std::vector<float> host(positions.size());
    CORRAL_RETURN_IF_ERROR(vals.CopyToHost(host.data(), host.size()));
    for (size_t i = 0; i < positions.size(); ++i) {
      r.samples.push_back({positions[i].first, positions[i].second, host[i]});
    }
  }
  return r;
}

Result<std::vector<float>> DeviceGemm::ReadC() const {
  std::vector<float> out(impl_->c.size());
  CORRAL_RETURN_IF_ERROR(impl_->c.CopyToHost(out.data(), out.size()));
  return out;
}

namespace gpu {

Result<GemmReport> RunVerificationGemm(const GemmSpec& spec, GemmEngine engine,
                                       std::vector<float>* c) {
  auto created = DeviceGemm::Create(spec);
  if (!created.ok()) return created.status();
  DeviceGemm& g = **created;
  auto resolved = g.Resolve(engine);
  if (!resolved.ok()) return resolved.status();
  // The first run loads the module; the next three calibrate the batch.
  auto first = g.Time(*resolved, 1);
  if (!first.ok()) return first.status();
  int64_t iterations = 1;
  double seconds = *first;
  if (spec.seconds > 0) {
    auto per = g.Time(*resolved, 3);
    if (!per.ok()) return per.status();
    iterations = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(spec.seconds / *per)));
    auto timed = g.Time(*resolved, static_cast<int>(std::min<int64_t>(iterations, 1 << 30)));
    if (!timed.ok()) return timed.status();
    seconds = *timed * static_cast<double>(iterations);
  }
  auto report = g.Report();
  if (!report.ok()) return report.status();
  if (c) {
    auto all = g.ReadC();
    if (!all.ok()) return all.status();
    *c = std::move(*all);
  }
  report->engine = GemmEngineName(*resolved);
  report->iterations = iterations;
  report->seconds = seconds;
  report->tflops = seconds > 0 ? 2.0 * static_cast<double>(spec.m) * static_cast<double>(spec.n) *
                                     static_cast<double>(spec.k) * static_cast<double>(iterations) /
                                     seconds / 1e12
                               : 0;
  return report;
}

}  // namespace gpu

}  // namespace corral::kernels
