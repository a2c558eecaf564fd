// The GPU triad: 16-byte vector loads and stores over the aligned body, scalar code for the
// tail, one element group per thread (a full-size grid streams better than a grid-stride loop).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cuda_call.h"
#include "kernels/triad.h"

namespace corral::kernels {

namespace {

constexpr int kThreads = 256;

__global__ void TriadVecKernel(float4* __restrict__ a, const float4* __restrict__ b,
                               const float4* __restrict__ c, float scalar, int64_t n4) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n4) {
    const float4 x = b[i];
    const float4 y = c[i];
    a[i] =
        make_float4(x.x + scalar * y.x, x.y + scalar * y.y, x.z + scalar * y.z, x.w + scalar * y.w);
  }
}

__global__ void TriadTailKernel(float* __restrict__ a, const float* __restrict__ b,
                                const float* __restrict__ c, float scalar, int64_t begin,
                                int64_t n) {
  const int64_t i = begin + blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) a[i] = b[i] + scalar * c[i];
}

__global__ void InitKernel(float* b, float* c, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    b[i] = static_cast<float>(i % 1000) * 0.5f;
    c[i] = static_cast<float>(i % 7) - 3.0f;
  }
}

// Counts elements of a that differ from b + scalar·c (all values are exact small multiples of
// 1/2, so FMA contraction cannot change them).
__global__ void CheckKernel(const float* a, const float* b, const float* c, float scalar, int64_t n,
                            unsigned long long* bad) {
  unsigned long long local = 0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    if (a[i] != b[i] + scalar * c[i]) ++local;
  }
  if (local) atomicAdd(bad, local);
}

// Enqueues one triad over device arrays of n floats (cudaMalloc'd, so 256-byte aligned).
Status LaunchTriad(float* a, const float* b, const float* c, float scalar, int64_t n) {
  const int64_t n4 = n / 4;
  if (n4 > 0) {
    TriadVecKernel<<<BlocksFor(n4, kThreads), kThreads>>>(
        reinterpret_cast<float4*>(a), reinterpret_cast<const float4*>(b),
        reinterpret_cast<const float4*>(c), scalar, n4);
  }
  if (n % 4 != 0) TriadTailKernel<<<1, 4>>>(a, b, c, scalar, n4 * 4, n);
  return CudaStatus("triad launch", cudaGetLastError());
}

struct Timing {
  int64_t repeats = 0;
  double seconds = 0;
};

// Calls `pass` once untimed (the first launch of a kernel also loads its module, as CUDA loads
// lazily), once timed to estimate, then enough times to fill `seconds`.
template <typename F>
Result<Timing> TimeRepeated(double seconds, F&& pass) {
  CORRAL_RETURN_IF_ERROR(pass());
  CORRAL_CUDA_TRY(cudaDeviceSynchronize());
  EventTimer timer;
  auto run = [&](int64_t reps) -> Result<double> {
    CORRAL_RETURN_IF_ERROR(timer.Start());
    for (int64_t i = 0; i < reps; ++i) CORRAL_RETURN_IF_ERROR(pass());
    return timer.Stop();
  };
  auto warm = run(1);
  if (!warm.ok() || seconds <= 0) {
    if (!warm.ok()) return warm.status();
    return Timing{1, *warm};
  }
  const auto reps =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(seconds / std::max(*warm, 1e-6))));
  auto t = run(reps);
  if (!t.ok()) return t.status();
  return Timing{reps, *t};
}

}  // namespace

namespace gpu {

Result<TriadReport> RunTriad(const TriadSpec& s) {
  CORRAL_RETURN_IF_ERROR(RequireGpu());
  const auto n = static_cast<size_t>(s.elements);
  DeviceBuffer<float> a, b, c;
  CORRAL_RETURN_IF_ERROR(a.Allocate(n));
  CORRAL_RETURN_IF_ERROR(b.Allocate(n));
  CORRAL_RETURN_IF_ERROR(c.Allocate(n));
  InitKernel<<<static_cast<unsigned>(std::min<int64_t>(BlocksFor(s.elements, kThreads), 65536)),
               kThreads>>>(b.get(), c.get(), s.elements);
  CORRAL_CUDA_TRY(cudaGetLastError());
  CORRAL_CUDA_TRY(cudaMemset(a.get(), 0, n * sizeof(float)));
  CORRAL_CUDA_TRY(cudaDeviceSynchronize());

  TriadReport r;
  r.engine = "cuda";
  const double bytes = static_cast<double>(s.elements) * sizeof(float);
  auto triad = TimeRepeated(
      s.seconds, [&] { return LaunchTriad(a.get(), b.get(), c.get(), s.scalar, s.elements); });
  if (!triad.ok()) return triad.status();
  r.triad_repeats = triad->repeats;
  r.triad_gbps = 3 * bytes * static_cast<double>(triad->repeats) / triad->seconds / 1e9;

  DeviceBuffer<unsigned long long> bad;
  CORRAL_RETURN_IF_ERROR(bad.Allocate(1));
  CORRAL_CUDA_TRY(cudaMemset(bad.get(), 0, sizeof(unsigned long long)));
  CheckKernel<<<static_cast<unsigned>(std::min<int64_t>(BlocksFor(s.elements, kThreads), 65536)),
                kThreads>>>(a.get(), b.get(), c.get(), s.scalar, s.elements, bad.get());
  CORRAL_CUDA_TRY(cudaGetLastError());
  unsigned long long mismatches = 0;
  CORRAL_RETURN_IF_ERROR(bad.CopyToHost(&mismatches, 1));
  r.verified = mismatches == 0;

  // The anchor: the driver's own device-to-device copy of one array into another.
  auto copy = TimeRepeated(s.seconds, [&] {
    return CudaStatus("cudaMemcpyAsync D2D", cudaMemcpyAsync(a.get(), b.get(), n * sizeof(float),
                                                             cudaMemcpyDeviceToDevice));
  });
  if (!copy.ok()) return copy.status();
  r.copy_repeats = copy->repeats;
  r.copy_gbps = 2 * bytes * static_cast<double>(copy->repeats) / copy->seconds / 1e9;
  return r;
}

Status TriadOnDevice(float* a, const float* b, const float* c, float scalar, int64_t n) {
  CORRAL_RETURN_IF_ERROR(RequireGpu());
  if (n <= 0) return Status::Ok();
  const auto count = static_cast<size_t>(n);
  DeviceBuffer<float> da, db, dc;
  CORRAL_RETURN_IF_ERROR(da.Allocate(count));
  CORRAL_RETURN_IF_ERROR(db.Allocate(count));
  CORRAL_RETURN_IF_ERROR(dc.Allocate(count));
  CORRAL_RETURN_IF_ERROR(db.CopyFromHost(b, count));
  CORRAL_RETURN_IF_ERROR(dc.CopyFromHost(c, count));
  CORRAL_RETURN_IF_ERROR(LaunchTriad(da.get(), db.get(), dc.get(), scalar, n));
  return da.CopyToHost(a, count);
}

}  // namespace gpu

}  // namespace corral::kernels
