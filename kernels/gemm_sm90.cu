// The Hopper verification GEMM; see gemm_sm90.h. Device code only builds for sm_90a (wgmma,
// TMA and setmaxnreg are arch-specific); other targets compile an empty kernel, and
// DeviceSupported() says so at run time.
#include <cudaTypedefs.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <mutex>
#include <string>
#include <type_traits>

#include "kernels/cuda_call.h"
#include "kernels/gemm_sm90.h"

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define CORRAL_SM90A 1
#endif

namespace corral::kernels::sm90 {

namespace {

constexpr int kBlockM = 128;  // two consumer warpgroups × 64 rows
constexpr int kBlockN = 256;
constexpr int kBlockK = 64;  // 64 × 2 bytes = one 128-byte swizzle row
constexpr int kStages = 4;
constexpr int kConsumers = 2;
constexpr int kThreads = 128 * (kConsumers + 1);
constexpr int kTileABytes = kBlockM * kBlockK * 2;
constexpr int kTileBBytes = kBlockN * kBlockK * 2;
constexpr int kStageBytes = kTileABytes + kTileBBytes;
// Tiles, then 2·kStages mbarriers, plus slack to align the tiles to 1024 bytes (128B swizzle).
constexpr int kSmemBytes = kStages * kStageBytes + 2 * kStages * 8 + 1024;
// Tile rows rasterized together, so that co-resident blocks share operands in L2.
[[maybe_unused]] constexpr int kGroupM = 16;
// A barrier wait that lasts this long means a broken pipeline: trap instead of hanging the device
// (a healthy wait at any size is microseconds; this also covers time slicing with other work).
[[maybe_unused]] constexpr uint64_t kMaxWaitNs = 4'000'000'000ull;

#ifdef CORRAL_SM90A

__device__ __forceinline__ uint32_t SmemAddr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void BarrierInit(uint64_t* bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(SmemAddr(bar)), "r"(count));
}

__device__ __forceinline__ void BarrierArrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(SmemAddr(bar)) : "memory");
}

// Arrives once and tells the barrier to also wait for `bytes` of TMA traffic.
__device__ __forceinline__ void BarrierArriveExpectTx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(SmemAddr(bar)),
               "r"(bytes)
               : "memory");
}

__device__ __forceinline__ bool BarrierTryWait(uint64_t* bar, uint32_t parity) {
  uint32_t done = 0;
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n"
      "}\n"
      : "=r"(done)
      : "r"(SmemAddr(bar)), "r"(parity)
      : "memory");
  return done != 0;
}

__device__ __forceinline__ uint64_t GlobalTimerNs() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Waits for the completion of the barrier phase with parity `parity`; traps after kMaxWaitNs.
__device__ __forceinline__ void BarrierWait(uint64_t* bar, uint32_t parity) {
  if (BarrierTryWait(bar, parity)) return;
  const uint64_t start = GlobalTimerNs();
  while (!BarrierTryWait(bar, parity)) {
    if (GlobalTimerNs() - start > kMaxWaitNs) __trap();
  }
}

// TMA: copies the box at (c0 = column, c1 = row) of a 2-D tensor map into shared memory and
// completes its bytes on `bar`.
__device__ __forceinline__ void TmaLoad(void* dst, const CUtensorMap* map, uint64_t* bar, int c0,
                                        int c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%3, %4}], [%2];" ::"r"(SmemAddr(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(SmemAddr(bar)), "r"(c0), "r"(c1)
      : "memory");
}

// wgmma shared-memory matrix descriptor for a K-major tile written by TMA with 128-byte
// swizzle: rows of 128 bytes, 8-row groups 1024 bytes apart.
__device__ __forceinline__ uint64_t SmemDescriptor(const void* p) {
  uint64_t desc = (static_cast<uint64_t>(SmemAddr(p)) & 0x3FFFF) >> 4;
  desc |= static_cast<uint64_t>(16 >> 4) << 16;    // leading byte offset (ignored when swizzled)
  desc |= static_cast<uint64_t>(1024 >> 4) << 32;  // stride byte offset
  desc |= static_cast<uint64_t>(1) << 62;          // 128-byte swizzle
  return desc;
}

__device__ __forceinline__ void WgmmaFence() {
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void WgmmaCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
// Waits until at most `kPending` committed wgmma groups of this warpgroup are unfinished.
template <int kPending>
__device__ __forceinline__ void WgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(kPending) : "memory");
}

// Tells the compiler the accumulators may change here, so it neither reads them early nor keeps
// stale copies across the asynchronous wgmma.
__device__ __forceinline__ void FenceAccumulators(float (&d)[128]) {
#pragma unroll
  for (int i = 0; i < 128; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

#define CORRAL_WGMMA_D_REGS                                                                      \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                       \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "             \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "             \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "             \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "             \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "             \
  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
  "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"

#define CORRAL_WGMMA_D_OPERANDS                                                                   \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
      "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]),    \
      "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]),  \
      "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]),  \
      "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]),  \
      "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]),  \
      "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]),  \
      "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]),  \
      "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),  \
      "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]),  \
      "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]),  \
      "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]),  \
      "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]),  \
      "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]),  \
      "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]),          \
      "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]),         \
      "+f"(d[111]), "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]),         \
      "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]),         \
      "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])

// D(64×256, FP32) += A(64×16) · B(16×256), both operands K-major in shared memory.
template <typename T>
__device__ __forceinline__ void Wgmma(float (&d)[128], uint64_t desc_a, uint64_t desc_b) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {" CORRAL_WGMMA_D_REGS
        "}, %128, %129, p, 1, 1, 0, 0;\n"
        "}\n"
        : CORRAL_WGMMA_D_OPERANDS
        : "l"(desc_a), "l"(desc_b), "r"(1));
  } else {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 {" CORRAL_WGMMA_D_REGS
        "}, %128, %129, p, 1, 1, 0, 0;\n"
        "}\n"
        : CORRAL_WGMMA_D_OPERANDS
        : "l"(desc_a), "l"(desc_b), "r"(1));
  }
}

#endif  // CORRAL_SM90A

// kOverlap: a consumer keeps one K block's wgmma group in flight while it issues the next, and
// releases each stage one block late; otherwise it waits for each block's products first.
template <typename T, bool kOverlap>
__global__ void __launch_bounds__(kThreads, 1)
    GemmKernel(const __grid_constant__ CUtensorMap map_a, const __grid_constant__ CUtensorMap map_b,
               float* __restrict__ c, int m, int n, int k) {
#ifdef CORRAL_SM90A
  extern __shared__ uint8_t smem_raw[];
  uint8_t* smem = smem_raw + ((1024 - (SmemAddr(smem_raw) & 1023)) & 1023);
  T* tiles_a = reinterpret_cast<T*>(smem);
  T* tiles_b = reinterpret_cast<T*>(smem + kStages * kTileABytes);
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + kStages * kStageBytes);
  uint64_t* empty = full + kStages;

  // Grouped rasterization: kGroupM tile-rows at a time, column by column within a group.
  const int tiles_m = m / kBlockM;
  const int tiles_n = n / kBlockN;
  const int per_group = kGroupM * tiles_n;
  const int group = static_cast<int>(blockIdx.x) / per_group;
  const int first_m = group * kGroupM;
  const int group_rows = min(tiles_m - first_m, kGroupM);
  const int in_group = static_cast<int>(blockIdx.x) % per_group;
  const int tile_m = first_m + in_group % group_rows;
  const int tile_n = in_group / group_rows;
  const int k_blocks = k / kBlockK;

  const int warpgroup = static_cast<int>(threadIdx.x) / 128;
  const int tid = static_cast<int>(threadIdx.x) % 128;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      BarrierInit(&full[s], 1);
      BarrierInit(&empty[s], kConsumers);
    }
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();

  if (warpgroup == 0) {
    // Producer: one thread issues every TMA load; the warpgroup gives its registers away.
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
    if (tid == 0) {
      int stage = 0;
      uint32_t phase = 0;
      for (int kb = 0; kb < k_blocks; ++kb) {
        BarrierWait(&empty[stage], phase);
        BarrierArriveExpectTx(&full[stage], kStageBytes);
        TmaLoad(tiles_a + stage * kBlockM * kBlockK, &map_a, &full[stage], kb * kBlockK,
                tile_m * kBlockM);
        TmaLoad(tiles_b + stage * kBlockN * kBlockK, &map_b, &full[stage], kb * kBlockK,
                tile_n * kBlockN);
        if (++stage == kStages) {
          stage = 0;
          phase ^= 1;
        }
      }
    }
    return;
  }

  // Consumers: warpgroup w multiplies rows [64(w-1), 64w) of the block tile.
  asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");
  const int consumer = warpgroup - 1;
  float d[128];
#pragma unroll
  for (int i = 0; i < 128; ++i) d[i] = 0.0f;

  // Every stage starts empty: release each once, which completes phase 0 of `empty`.
  if (tid == 0) {
    for (int s = 0; s < kStages; ++s) BarrierArrive(&empty[s]);
  }

  int stage = 0;
  int previous = 0;  // the stage of the block before, while its group may still run
  uint32_t phase = 0;
  for (int kb = 0; kb < k_blocks; ++kb) {
    BarrierWait(&full[stage], phase);
    const T* a = tiles_a + stage * kBlockM * kBlockK + consumer * 64 * kBlockK;
    const T* b = tiles_b + stage * kBlockN * kBlockK;
    FenceAccumulators(d);
    WgmmaFence();
#pragma unroll
    for (int kk = 0; kk < kBlockK / 16; ++kk) {
      // Within a 128-byte swizzled row, stepping K by 16 elements is a 32-byte address step.
      Wgmma<T>(d, SmemDescriptor(a + kk * 16), SmemDescriptor(b + kk * 16));
    }
    WgmmaCommit();
    if constexpr (kOverlap) {
      // Consecutive wgmmas of one shape into the same accumulators are ordered by the hardware,
      // so the next block's may issue now; once the block before is done, its stage is free.
      WgmmaWait<1>();
      if (tid == 0 && kb > 0) BarrierArrive(&empty[previous]);
    } else {
      WgmmaWait<0>();
      FenceAccumulators(d);
      if (tid == 0) BarrierArrive(&empty[stage]);
    }
    previous = stage;
    if (++stage == kStages) {
      stage = 0;
      phase ^= 1;
    }
  }
  WgmmaWait<0>();
  FenceAccumulators(d);

  // Accumulator layout of m64nNk16: warp w of the warpgroup holds rows 16w..16w+15; register
  // 4j+r sits at row lane/4 (+8 for r >= 2) and column 8j + 2(lane%4) + (r & 1).
  const int warp = tid / 32;
  const int lane = tid % 32;
  const int64_t row = static_cast<int64_t>(tile_m) * kBlockM + consumer * 64 + warp * 16 + lane / 4;
  const int64_t col0 = static_cast<int64_t>(tile_n) * kBlockN + 2 * (lane % 4);
  float* c0 = c + row * n + col0;
  float* c8 = c0 + 8 * static_cast<int64_t>(n);
#pragma unroll
  for (int j = 0; j < 32; ++j) {
    *reinterpret_cast<float2*>(c0 + 8 * j) = make_float2(d[4 * j], d[4 * j + 1]);
    *reinterpret_cast<float2*>(c8 + 8 * j) = make_float2(d[4 * j + 2], d[4 * j + 3]);
  }
#else
  (void)c;
  (void)m;
  (void)n;
  (void)k;
#endif
}

// Writes 1 when the running device code was compiled for sm_90a.
__global__ void ProbeKernel(int* out) {
#ifdef CORRAL_SM90A
  *out = 1;
#else
  *out = 0;
#endif
}

Result<PFN_cuTensorMapEncodeTiled_v12000> EncodeFunction() {
  // Through the runtime, so that nothing links libcuda and machines without a driver still load
  // this library.
  static void* fn = nullptr;
  static cudaError_t err = cudaSuccess;
  static std::once_flag once;
  std::call_once(once, [] {
    cudaDriverEntryPointQueryResult q{};
    err = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault,
                                           &q);
    if (err == cudaSuccess && q != cudaDriverEntryPointSuccess) err = cudaErrorSymbolNotFound;
  });
  if (err != cudaSuccess) return CudaStatus("cudaGetDriverEntryPoint(cuTensorMapEncodeTiled)", err);
  return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
}

Status EncodeKMajor(PFN_cuTensorMapEncodeTiled_v12000 encode, CUtensorMap* map,
                    CUtensorMapDataType type, const void* base, int64_t rows, int64_t k,
                    int box_rows) {
  cuuint64_t dims[2] = {static_cast<cuuint64_t>(k), static_cast<cuuint64_t>(rows)};
  cuuint64_t strides[1] = {static_cast<cuuint64_t>(k) * 2};  // bytes between rows
  cuuint32_t box[2] = {static_cast<cuuint32_t>(kBlockK), static_cast<cuuint32_t>(box_rows)};
  cuuint32_t elem_strides[2] = {1, 1};
  CUresult r = encode(map, type, 2, const_cast<void*>(base), dims, strides, box, elem_strides,
                      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    return Status::Internal("cuTensorMapEncodeTiled failed with CUresult " +
                            std::to_string(static_cast<int>(r)));
  }
  return Status::Ok();
}

}  // namespace

bool ShapeSupported(int64_t m, int64_t n, int64_t k) {
  return m > 0 && n > 0 && k > 0 && m % kBlockM == 0 && n % kBlockN == 0 && k % kBlockK == 0 &&
         m <= 65536 && n <= 65536 && k <= 65536;
}

bool DeviceSupported() {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return false;
  int major = 0, minor = 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  if (major != 9 || minor != 0) return false;
  DeviceBuffer<int> flag;
  if (!flag.Allocate(1).ok()) return false;
  ProbeKernel<<<1, 1>>>(flag.get());
  int host = 0;
  if (cudaGetLastError() != cudaSuccess || !flag.CopyToHost(&host, 1).ok()) {
    cudaGetLastError();
    return false;
  }
  return host == 1;
}

Result<std::unique_ptr<Plan>> MakePlan(GemmPrecision precision, const void* a, const void* bt,
                                       int64_t m, int64_t n, int64_t k) {
  if (!ShapeSupported(m, n, k)) {
    return Status::FailedPrecondition("sm90 GEMM: shape " + std::to_string(m) + "x" +
                                      std::to_string(n) + "x" + std::to_string(k) +
                                      " needs m % 128 == 0, n % 256 == 0 and k % 64 == 0");
  }
  auto encode = EncodeFunction();
  if (!encode.ok()) return encode.status();
  auto plan = std::make_unique<Plan>();
  const CUtensorMapDataType type = precision == GemmPrecision::kBf16
                                       ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                       : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  CORRAL_RETURN_IF_ERROR(EncodeKMajor(*encode, &plan->map_a, type, a, m, k, kBlockM));
  CORRAL_RETURN_IF_ERROR(EncodeKMajor(*encode, &plan->map_b, type, bt, n, k, kBlockN));
  plan->precision = precision;
  plan->m = static_cast<int>(m);
  plan->n = static_cast<int>(n);
  plan->k = static_cast<int>(k);
  return std::move(plan);
}

namespace {

template <typename T, bool kOverlap>
Status LaunchTyped(const Plan& p, float* c, cudaStream_t stream) {
  // Per device (a function attribute belongs to the device's context), so set at every launch:
  // a microsecond, against a product of milliseconds.
  CORRAL_CUDA_TRY(cudaFuncSetAttribute(GemmKernel<T, kOverlap>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
  const unsigned blocks = static_cast<unsigned>((p.m / kBlockM) * (p.n / kBlockN));
  GemmKernel<T, kOverlap>
      <<<blocks, kThreads, kSmemBytes, stream>>>(p.map_a, p.map_b, c, p.m, p.n, p.k);
  return CudaStatus("sm90 GEMM launch", cudaGetLastError());
}

}  // namespace

Status Launch(const Plan& plan, float* c, cudaStream_t stream) {
  if (plan.precision == GemmPrecision::kBf16) {
    return plan.overlap ? LaunchTyped<__nv_bfloat16, true>(plan, c, stream)
                        : LaunchTyped<__nv_bfloat16, false>(plan, c, stream);
  }
  return plan.overlap ? LaunchTyped<__half, true>(plan, c, stream)
                      : LaunchTyped<__half, false>(plan, c, stream);
}

}  // namespace corral::kernels::sm90
