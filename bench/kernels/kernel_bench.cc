// corral-kernel-bench: the GPU measurements of scripts/device-check.
//
//   verification GEMM (BF16, FP16; each engine this GPU has) vs cuBLAS on the same operands,
//   m = n = k = --size;
//   STREAM triad vs the driver's device-to-device copy of the same arrays;
//   one training step (forward, backward, NCCL allreduce, SGD) of an MLP, ms per iteration.
//
// Prints a table and one line "RESULT gemm_vs_cublas=… triad_vs_copy=… …". Exit status 1 when a
// result is wrong (the GEMM's sampled entries or its digest against cuBLAS's) or a measurement
// fails (the table still shows the rest), 2 without a GPU;
// speed below the goals is reported, not an error.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cuda_call.h"
#include "kernels/device.h"
#include "kernels/gemm_device.h"
#include "kernels/gemm_sm90.h"
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
constexpr const char* kSerialName = "sm90/serial";
constexpr double kTriadGoal = 0.85;

struct GemmRow {
  std::string precision;
  std::string engine;
  double ours = 0;    // TFLOP/s
  double cublas = 0;  // TFLOP/s
  bool samples_ok = false;
  bool digest_equal = false;
  std::string error;  // set when the engine failed to run; nothing after it was measured
};

// Mean seconds per cuBLAS GEMM over enough runs to fill `seconds`; 0 when cuBLAS fails.
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
  double out = 0;
  if (run() == CUBLAS_STATUS_SUCCESS) {
    timed(2);
    const double per = timed(3);
    const int reps = std::max(1, static_cast<int>(seconds / per));
    out = timed(reps);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return cudaGetLastError() == cudaSuccess ? out : 0;
}

// One precision: cuBLAS first (its C is the reference digest, and it runs before any engine of
// ours could leave the context broken), then each of our engines on the same operands, the
// generic one before the Hopper ones. Returns one row per engine measured; `broken` is set when an
// engine failed, after which the CUDA context may be unusable.
Result<std::vector<GemmRow>> BenchGemm(cublasHandle_t h, int64_t size, GemmPrecision p,
                                       double seconds, bool& broken) {
  GemmSpec s;
  s.m = s.n = s.k = size;
  s.precision = p;
  s.seed = 20240601;
  s.challenge = 77;
  s.samples = 256;
  auto g = DeviceGemm::Create(s);
  if (!g.ok()) return g.status();
  const double flops = 2.0 * static_cast<double>(size) * size * size;
  const std::string precision = p == GemmPrecision::kBf16 ? "bf16" : "fp16";

  const double cublas_s = TimeCublas(h, **g, seconds);
  if (cublas_s <= 0) return Status::Internal("cuBLAS GEMM " + precision + " failed");
  auto theirs = (*g)->Report();
  if (!theirs.ok()) return theirs.status();
  if (Status st = VerifyGemmSamples(s, *theirs); !st.ok()) {
    std::fprintf(stderr, "GEMM %s: cuBLAS's own C fails the check (%s)\n", precision.c_str(),
                 st.message().c_str());
  }

  // What runs: each engine through DeviceGemm, and the Hopper kernel's other pipeline variant
  // (each K block waited for before the next) through its plan, to show which is faster.
  struct Variant {
    std::string name;
    std::function<Result<double>(int)> time;  // mean seconds per product over `reps`
  };
  std::vector<Variant> variants;
  auto engine = [&](GemmEngine e) {
    return Variant{GemmEngineName(e), [&g, e](int reps) { return (*g)->Time(e, reps); }};
  };
  variants.push_back(engine(GemmEngine::kWmma));
  std::unique_ptr<sm90::Plan> serial;
  if ((*g)->Resolve(GemmEngine::kSm90).ok()) {
    auto plan = sm90::MakePlan(p, (*g)->a(), (*g)->bt(), size, size, size);
    if (!plan.ok()) return plan.status();
    serial = std::move(*plan);
    serial->overlap = false;
    variants.push_back({kSerialName, [&g, &serial](int reps) -> Result<double> {
                          EventTimer timer;
                          CORRAL_RETURN_IF_ERROR(timer.Start());
                          for (int i = 0; i < reps; ++i) {
                            CORRAL_RETURN_IF_ERROR(sm90::Launch(*serial, (*g)->c(), nullptr));
                          }
                          auto t = timer.Stop();
                          if (!t.ok()) return t.status();
                          return *t / reps;
                        }});
    variants.push_back(engine(GemmEngine::kSm90));
  }
  std::vector<GemmRow> rows;
  for (const Variant& v : variants) {
    GemmRow row;
    row.precision = precision;
    row.engine = v.name;
    row.cublas = flops / cublas_s / 1e12;
    cudaMemset((*g)->c(), 0, static_cast<size_t>(size * size) * sizeof(float));
    Status st = Status::Ok();
    if (auto warm = v.time(2); !warm.ok()) {
      st = warm.status();
    } else {
      const int reps = std::max(1, static_cast<int>(seconds / *warm));
      auto per = v.time(reps);
      if (per.ok()) {
        row.ours = flops / *per / 1e12;
        auto ours = (*g)->Report();
        if (ours.ok()) {
          const Status check = VerifyGemmSamples(s, *ours);
          row.samples_ok = check.ok();
          row.digest_equal = ours->digest == theirs->digest;
          if (!check.ok()) {
            std::fprintf(stderr, "GEMM %s %s: %s\n", precision.c_str(), row.engine.c_str(),
                         check.message().c_str());
          }
        } else {
          st = ours.status();
        }
      } else {
        st = per.status();
      }
    }
    if (!st.ok()) {
      row.error = st.ToString();
      std::fprintf(stderr, "GEMM %s %s: %s\n", precision.c_str(), row.engine.c_str(),
                   row.error.c_str());
      broken = true;
    }
    rows.push_back(row);
    if (broken) break;
  }
  return rows;
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

  // Triad and the training step first, the GEMMs last: if one of our GEMM engines breaks the
  // CUDA context (a trap), everything before it has been measured and is still printed.
  bool correct = true;
  TriadSpec ts;
  ts.elements = triad_elements;
  ts.seconds = seconds / 2;
  auto triad = RunTriad(ts, Device::kGpu);
  if (!triad.ok()) {
    std::fprintf(stderr, "triad: %s\n", triad.status().ToString().c_str());
    correct = false;
  } else {
    correct = correct && triad->verified;
  }
  auto train = BenchTrain(seconds / 2);
  if (!train.ok()) {
    std::fprintf(stderr, "train step: %s\n", train.status().ToString().c_str());
    correct = false;
  }
  std::vector<GemmRow> gemms;
  bool broken = false;
  for (GemmPrecision p : {GemmPrecision::kBf16, GemmPrecision::kFp16}) {
    if ((p == GemmPrecision::kFp16 && !fp16) || broken) continue;
    auto rows =
        BenchGemm(handle, size, p, p == GemmPrecision::kBf16 ? seconds : seconds / 2, broken);
    if (!rows.ok()) {
      std::fprintf(stderr, "GEMM: %s\n", rows.status().ToString().c_str());
      correct = false;
      break;
    }
    for (const GemmRow& r : *rows) {
      correct = correct && r.error.empty() && r.samples_ok && r.digest_equal;
      gemms.push_back(r);
    }
  }
  cublasDestroy(handle);

  // The headline is the engine that verification runs (kAuto): sm90 where it ran, else wmma.
  const GemmRow* bf16 = nullptr;
  const GemmRow* wmma = nullptr;
  const GemmRow* serial = nullptr;
  for (const GemmRow& g : gemms) {
    if (g.precision != "bf16") continue;
    if (g.engine == GemmEngineName(GemmEngine::kWmma)) wmma = &g;
    if (g.engine == GemmEngineName(GemmEngine::kSm90)) bf16 = &g;
    if (g.engine == kSerialName) serial = &g;
  }
  if (!bf16) bf16 = serial ? serial : wmma;
  auto ratio = [](const GemmRow* g) { return g && g->cublas > 0 ? g->ours / g->cublas : 0.0; };
  const double triad_ratio =
      triad.ok() && triad->copy_gbps > 0 ? triad->triad_gbps / triad->copy_gbps : 0;
  std::printf("\n%-26s %-16s %12s %12s %7s  %s\n", "measurement", "engine", "ours", "anchor",
              "ratio", "check");
  if (triad.ok()) {
    std::printf("%-26s %-16s %12.1f %12.1f %7.3f  values %s, goal >= 0.85: %s\n",
                "triad GB/s (copy anchor)", triad->engine.c_str(), triad->triad_gbps,
                triad->copy_gbps, triad_ratio, triad->verified ? "exact" : "WRONG",
                Mark(triad_ratio >= kTriadGoal));
  } else {
    std::printf("%-26s %-16s %12s %12s %7s  FAILED: %s\n", "triad GB/s (copy anchor)", "-", "-",
                "-", "-", triad.status().ToString().c_str());
  }
  if (train.ok()) {
    std::printf("%-26s %-16s %12.2f %12s %7s  batch %lld, allreduce %s\n", "train step ms/iter",
                train->shape.c_str(), train->ms, "-", "-", static_cast<long long>(train->batch),
                train->allreduce.c_str());
  } else {
    std::printf("%-26s %-16s %12s %12s %7s  FAILED: %s\n", "train step ms/iter", "-", "-", "-", "-",
                train.status().ToString().c_str());
  }
  for (const GemmRow& g : gemms) {
    char name[64];
    std::snprintf(name, sizeof name, "GEMM %s %lld^3 TFLOP/s", g.precision.c_str(),
                  static_cast<long long>(size));
    if (!g.error.empty()) {
      std::printf("%-26s %-16s %12s %12.1f %7s  FAILED: %s\n", name, g.engine.c_str(), "-",
                  g.cublas, "-", g.error.c_str());
      continue;
    }
    const double r = ratio(&g);
    const std::string goal =
        &g == bf16 ? std::string(", goal >= 0.70: ") + Mark(r >= kGemmGoal) : "";
    std::printf("%-26s %-16s %12.1f %12.1f %7.3f  samples %s, digest %s cuBLAS%s\n", name,
                g.engine.c_str(), g.ours, g.cublas, r, g.samples_ok ? "exact" : "WRONG",
                g.digest_equal ? "==" : "!=", goal.c_str());
  }
  std::printf(
      "\nRESULT gemm_vs_cublas=%.3f triad_vs_copy=%.3f gemm_engine=%s gemm_tflops=%.1f "
      "cublas_tflops=%.1f wmma_vs_cublas=%.3f sm90_serial_vs_cublas=%.3f triad_gbps=%.0f "
      "copy_gbps=%.0f train_ms_per_iter=%.2f correct=%s\n",
      ratio(bf16), triad_ratio, bf16 ? bf16->engine.c_str() : "none", bf16 ? bf16->ours : 0.0,
      bf16 ? bf16->cublas : 0.0, ratio(wmma), ratio(serial), triad.ok() ? triad->triad_gbps : 0.0,
      triad.ok() ? triad->copy_gbps : 0.0, train.ok() ? train->ms : 0.0, correct ? "yes" : "NO");
  return correct ? 0 : 1;
}
