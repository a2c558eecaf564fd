// corral-kernel-bench: the GPU measurements of scripts/device-check.
//
//   verification GEMM (BF16, FP16) vs cuBLAS on the same operands, m = n = k = --size;
//   STREAM triad vs the driver's device-to-device copy of the same arrays;
//   one training step (forward, backward, NCCL allreduce, SGD) of an MLP, ms per iteration.
//
// Prints a table and one line "RESULT gemm_vs_cublas=… triad_vs_copy=… …". Exit status 1 when a
// result is wrong (the GEMM's sampled entries or its digest against cuBLAS's), 2 without a GPU;
// speed below the goals is reported, not an error.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/gemm_device.h"
#include "kernels/gemm_verify.h"
#include "kernels/mlp.h"
#include "kernels/seeded.h"
#include "kernels/train_step.h"
#include "kernels/triad.h"
#ifdef CORRAL_HAVE_NCCL
#include "kernels/nccl_comm.h"
#endif

namespace po = boost::program_options;
using namespace corral::kernels;
using corral::Result;
using corral::Status;

namespace {

constexpr double kGemmGoal = 0.70;
constexpr double kTriadGoal = 0.85;

struct GemmRow {
  std::string precision;
  std::string engine;
  double ours = 0;    // TFLOP/s
  double cublas = 0;  // TFLOP/s
  bool samples_ok = false;
  bool digest_equal = false;
};

// Mean seconds per cuBLAS GEMM over enough runs to fill `seconds`.
double TimeCublas(cublasHandle_t h, DeviceGemm& g, double seconds) {
  const GemmSpec& s = g.spec();
  const cudaDataType_t t = s.precision == GemmPrecision::kBf16 ? CUDA_R_16BF : CUDA_R_16F;
  const float alpha = 1.0f, beta = 0.0f;
  // Row-major C (m×n) = A·B is column-major C^T (n×m) = (B^T)^T' · A^T: op(bt)=T, op(a)=N.
  auto run = [&] {
    return cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(s.n), static_cast<int>(s.m),
                        static_cast<int>(s.k), &alpha, g.bt(), t, static_cast<int>(s.k), g.a(), t,
                        static_cast<int>(s.k), &beta, g.c(), CUDA_R_32F, static_cast<int>(s.n),
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  };
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  auto timed = [&](int reps) {
    cudaEventRecord(a);
    for (int i = 0; i < reps; ++i) run();
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    return ms / 1e3 / reps;
  };
  if (run() != CUBLAS_STATUS_SUCCESS) return 0;
  timed(2);
  const double per = timed(3);
  const int reps = std::max(1, static_cast<int>(seconds / per));
  const double out = timed(reps);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return out;
}

Result<GemmRow> BenchGemm(cublasHandle_t h, int64_t size, GemmPrecision p, double seconds) {
  GemmSpec s;
  s.m = s.n = s.k = size;
  s.precision = p;
  s.seed = 20240601;
  s.challenge = 77;
  s.samples = 256;
  auto g = DeviceGemm::Create(s);
  if (!g.ok()) return g.status();
  auto engine = (*g)->Resolve(GemmEngine::kAuto);
  if (!engine.ok()) return engine.status();
  GemmRow row;
  row.precision = p == GemmPrecision::kBf16 ? "bf16" : "fp16";
  row.engine = GemmEngineName(*engine);
  auto warm = (*g)->Time(*engine, 2);
  if (!warm.ok()) return warm.status();
  const int reps = std::max(1, static_cast<int>(seconds / *warm));
  auto per = (*g)->Time(*engine, reps);
  if (!per.ok()) return per.status();
  const double flops = 2.0 * static_cast<double>(size) * size * size;
  row.ours = flops / *per / 1e12;
  auto ours = (*g)->Report();
  if (!ours.ok()) return ours.status();
  const Status check = VerifyGemmSamples(s, *ours);
  row.samples_ok = check.ok();
  if (!check.ok())
    std::fprintf(stderr, "GEMM %s: %s\n", row.precision.c_str(), check.message().c_str());

  // cuBLAS writes the same C: its digest must equal ours bit for bit (C is exact).
  cudaMemset((*g)->c(), 0, static_cast<size_t>(size * size) * sizeof(float));
  const double cublas = TimeCublas(h, **g, seconds);
  row.cublas = cublas > 0 ? flops / cublas / 1e12 : 0;
  auto theirs = (*g)->Report();
  if (!theirs.ok()) return theirs.status();
  row.digest_equal = theirs->digest == ours->digest;
  return row;
}

struct TrainRow {
  std::string shape;
  int64_t batch = 0;
  double ms = 0;
  std::string allreduce = "none";
};

Result<TrainRow> BenchTrain(double seconds) {
  const std::vector<int> widths = {512, 2048, 2048, 512};
  const int64_t batch = 4096;
  const Mlp model = MlpSeeded(widths, 5);
  auto step = TrainStep::Create(model, batch, Device::kGpu);
  if (!step.ok()) return step.status();
  std::vector<float> x(static_cast<size_t>(batch * widths.front())),
      y(static_cast<size_t>(batch * widths.back()));
  for (size_t i = 0; i < x.size(); ++i) x[i] = Symmetric(Hash(1, i));
  for (size_t i = 0; i < y.size(); ++i) y[i] = Symmetric(Hash(2, i));
  TrainRow row;
  row.shape = "512-2048-2048-512";
  row.batch = batch;
#ifdef CORRAL_HAVE_NCCL
  std::unique_ptr<NcclComm> comm;
  if (auto id = NcclComm::NewUniqueId(); id.ok()) {
    if (auto c = NcclComm::Create(*id, 1, 0); c.ok()) {
      comm = std::move(*c);
      row.allreduce = "nccl (1 rank)";
    }
  }
#endif
  auto iteration = [&]() -> Status {
    if (Status st = (*step)->Backward(x.data(), y.data(), batch); !st.ok()) return st;
#ifdef CORRAL_HAVE_NCCL
    if (comm) {
      Status st = comm->AllreduceSum((*step)->GradientBuffer(), (*step)->BufferSize());
      if (!st.ok()) return st;
    }
#endif
    auto loss = (*step)->Apply(1e-3f, batch);  // reads the loss back: a full synchronization
    return loss.status();
  };
  for (int i = 0; i < 2; ++i) {
    if (Status st = iteration(); !st.ok()) return st;
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int iters = 0;
  double elapsed = 0;
  do {
    if (Status st = iteration(); !st.ok()) return st;
    ++iters;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  row.ms = 1e3 * elapsed / iters;
  return row;
}

const char* Mark(bool ok) {
  return ok ? "ok" : "BELOW GOAL";
}

}  // namespace

int main(int argc, char** argv) {
  int64_t size = 8192;
  int64_t triad_elements = int64_t{1} << 28;
  double seconds = 2.0;
  bool fp16 = true;
  po::options_description desc("corral-kernel-bench: GPU kernels against their anchors\n\nOptions");
  desc.add_options()("help,h", "show this help")("size", po::value(&size)->default_value(size),
                                                 "GEMM m = n = k")(
      "triad-elements", po::value(&triad_elements)->default_value(triad_elements),
      "floats per triad array")("seconds", po::value(&seconds)->default_value(seconds),
                                "time per measurement")(
      "fp16", po::value(&fp16)->default_value(fp16), "also measure the FP16 GEMM");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-kernel-bench: %s\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (!GpuPresent()) {
    std::fprintf(stderr, "corral-kernel-bench: %s\n", DescribeGpu().c_str());
    return 2;
  }
  std::printf("device: %s\n", DescribeGpu().c_str());
  cublasHandle_t handle;
  if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
    std::fprintf(stderr, "corral-kernel-bench: cublasCreate failed\n");
    return 1;
  }

  bool correct = true;
  std::vector<GemmRow> gemms;
  for (GemmPrecision p : {GemmPrecision::kBf16, GemmPrecision::kFp16}) {
    if (p == GemmPrecision::kFp16 && !fp16) continue;
    auto row = BenchGemm(handle, size, p, p == GemmPrecision::kBf16 ? seconds : seconds / 2);
    if (!row.ok()) {
      std::fprintf(stderr, "GEMM: %s\n", row.status().ToString().c_str());
      return 1;
    }
    correct = correct && row->samples_ok && row->digest_equal;
    gemms.push_back(*row);
  }
  TriadSpec ts;
  ts.elements = triad_elements;
  ts.seconds = seconds / 2;
  auto triad = RunTriad(ts, Device::kGpu);
  if (!triad.ok()) {
    std::fprintf(stderr, "triad: %s\n", triad.status().ToString().c_str());
    return 1;
  }
  correct = correct && triad->verified;
  auto train = BenchTrain(seconds / 2);
  if (!train.ok()) {
    std::fprintf(stderr, "train step: %s\n", train.status().ToString().c_str());
    return 1;
  }
  cublasDestroy(handle);

  const GemmRow& bf16 = gemms.front();
  const double gemm_ratio = bf16.cublas > 0 ? bf16.ours / bf16.cublas : 0;
  const double triad_ratio = triad->copy_gbps > 0 ? triad->triad_gbps / triad->copy_gbps : 0;
  std::printf("\n%-26s %-16s %12s %12s %7s  %s\n", "measurement", "engine", "ours", "anchor",
              "ratio", "check");
  for (const GemmRow& g : gemms) {
    char name[64];
    std::snprintf(name, sizeof name, "GEMM %s %lld^3 TFLOP/s", g.precision.c_str(),
                  static_cast<long long>(size));
    const double r = g.cublas > 0 ? g.ours / g.cublas : 0;
    const std::string goal =
        g.precision == "bf16" ? std::string(", goal >= 0.70: ") + Mark(r >= kGemmGoal) : "";
    std::printf("%-26s %-16s %12.1f %12.1f %7.3f  samples %s, digest %s cuBLAS%s\n", name,
                g.engine.c_str(), g.ours, g.cublas, r, g.samples_ok ? "exact" : "WRONG",
                g.digest_equal ? "==" : "!=", goal.c_str());
  }
  std::printf("%-26s %-16s %12.1f %12.1f %7.3f  values %s, goal >= 0.85: %s\n",
              "triad GB/s (copy anchor)", triad->engine.c_str(), triad->triad_gbps,
              triad->copy_gbps, triad_ratio, triad->verified ? "exact" : "WRONG",
              Mark(triad_ratio >= kTriadGoal));
  std::printf("%-26s %-16s %12.2f %12s %7s  batch %lld, allreduce %s\n", "train step ms/iter",
              train->shape.c_str(), train->ms, "-", "-", static_cast<long long>(train->batch),
              train->allreduce.c_str());
  std::printf(
      "\nRESULT gemm_vs_cublas=%.3f triad_vs_copy=%.3f gemm_tflops=%.1f cublas_tflops=%.1f "
      "triad_gbps=%.0f copy_gbps=%.0f train_ms_per_iter=%.2f correct=%s\n",
      gemm_ratio, triad_ratio, bf16.ours, bf16.cublas, triad->triad_gbps, triad->copy_gbps,
      train->ms, correct ? "yes" : "NO");
  return correct ? 0 : 1;
}
