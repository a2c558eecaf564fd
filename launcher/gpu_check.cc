#include "launcher/gpu_check.h"

#include "common/log.h"
#include "kernels/device.h"
#include "kernels/gemm_verify.h"

namespace corral {

v1::VerifyReport RunGpuChecks(const v1::GemmChallenge& c, const NodeProfile& profile) {
  v1::VerifyReport report;
  report.set_challenge(c.challenge());
  const int devices = kernels::GpuCount();
  for (size_t i = 0; i < profile.gpus.size(); ++i) {
    v1::GpuCheck* g = report.add_gpus();
    g->set_index(static_cast<int32_t>(i));
    const int32_t ordinal = profile.gpus[i].index;
    const bool on_device = ordinal >= 0 && ordinal < devices;
    kernels::GemmSpec spec;
    spec.m = spec.n = spec.k = on_device ? c.size() : c.cpu_size();
    spec.precision =
        c.precision() == "fp16" ? kernels::GemmPrecision::kFp16 : kernels::GemmPrecision::kBf16;
    spec.seed = c.seed();
    spec.challenge = c.challenge();
    spec.samples = c.samples();
    spec.seconds = on_device ? c.seconds() : 0;
    Result<kernels::GemmReport> r = Status::Internal("not run");
    if (on_device) {
      Status sel = kernels::SelectGpu(ordinal);
      r = sel.ok() ? kernels::RunVerificationGemm(spec, kernels::Device::kGpu)
                   : Result<kernels::GemmReport>(sel);
    } else {
      r = kernels::RunVerificationGemm(spec, kernels::Device::kCpu);
    }
    g->set_size(spec.m);
    if (!r.ok()) {
      g->set_error(r.status().message());
      spdlog::warn("GPU check of GPU {}: {}", i, r.status().message());
      continue;
    }
    g->set_engine(r->engine);
    g->set_digest(r->digest);
    for (const auto& s : r->samples) {
      g->add_sample_rows(s.row);
      g->add_sample_cols(s.col);
      g->add_sample_values(s.value);
    }
    g->set_iterations(r->iterations);
    g->set_seconds(r->seconds);
    g->set_tflops(r->tflops);
    spdlog::info("GPU check of GPU {} ({}): {}^3 on {}, {:.2f} TFLOP/s", i, profile.gpus[i].model,
                 spec.m, r->engine, r->tflops);
  }
  return report;
}

}  // namespace corral
