#include "sched/ctld/gpu_verify.h"

#include <cmath>
#include <string>

#include "kernels/gemm_verify.h"

namespace corral::ctld {

namespace {

std::string GpuName(const NodeProfile& node, int32_t index) {
  std::string s = "GPU " + std::to_string(index);
  if (index >= 0 && static_cast<size_t>(index) < node.gpus.size() &&
      !node.gpus[static_cast<size_t>(index)].model.empty()) {
    s += " (" + node.gpus[static_cast<size_t>(index)].model + ")";
  }
  return s;
}

bool FiniteNonNegative(double v) {
  return std::isfinite(v) && v >= 0;
}

}  // namespace

Status ValidatePolicy(const VerifyPolicy& p) {
  if (p.size < 1 || p.size > 32768) return Status::Invalid("--verify-size: must be in [1, 32768]");
  if (p.cpu_size < 1 || p.cpu_size > 1024) {
    return Status::Invalid("--verify-cpu-size: must be in [1, 1024]");
  }
  if (p.samples < 1 || p.samples > 4096) {
    return Status::Invalid("--verify-samples: must be in [1, 4096]");
  }
  if (!(p.seconds >= 0 && p.seconds <= 600)) {
    return Status::Invalid("--verify-seconds: must be in [0, 600]");
  }
  if (p.timeout_ms < 1000) return Status::Invalid("--verify-timeout: must be at least 1 s");
  return Status::Ok();
}

v1::GemmChallenge MakeChallenge(const VerifyPolicy& p, uint64_t seed, uint64_t challenge) {
  v1::GemmChallenge c;
  c.set_seed(seed);
  c.set_challenge(challenge);
  c.set_size(p.size);
  c.set_cpu_size(p.cpu_size);
  c.set_samples(p.samples);
  c.set_seconds(p.seconds);
  c.set_precision("bf16");
  return c;
}

Result<VerifyOutcome> CheckReport(const v1::GemmChallenge& sent, const NodeProfile& node,
                                  const v1::VerifyReport& report, bool allow_simulated) {
  if (report.challenge() != sent.challenge()) {
    return Status::Invalid("verify report: answers challenge " +
                           std::to_string(report.challenge()) + ", not the one sent");
  }
  const size_t declared = node.gpus.size();
  if (static_cast<size_t>(report.gpus_size()) != declared) {
    return Status::Invalid("verify report: " + std::to_string(report.gpus_size()) +
                           " GPU checks for " + std::to_string(declared) + " declared GPUs");
  }
  kernels::GemmSpec spec;
  spec.precision =
      sent.precision() == "fp16" ? kernels::GemmPrecision::kFp16 : kernels::GemmPrecision::kBf16;
  spec.seed = sent.seed();
  spec.challenge = sent.challenge();
  spec.samples = sent.samples();
  std::vector<bool> seen(declared, false);
  VerifyOutcome out;
  for (const v1::GpuCheck& g : report.gpus()) {
    const int32_t i = g.index();
    if (i < 0 || static_cast<size_t>(i) >= declared) {
      return Status::Invalid("verify report: GPU index " + std::to_string(i) +
                             " is not one of the node's " + std::to_string(declared));
    }
    const std::string name = GpuName(node, i);
    if (seen[static_cast<size_t>(i)]) {
      return Status::Invalid("verify report: " + name + " is checked twice");
    }
    seen[static_cast<size_t>(i)] = true;
    if (!g.error().empty()) {
      return Status::Invalid(name + ": the check did not run: " + g.error().substr(0, 200));
    }
    const bool on_cpu = g.engine() == "cpu";
    if (on_cpu && !allow_simulated) {
      return Status::Invalid(name +
                             " was checked on the CPU: no such GPU answered on the node (this "
                             "controller does not accept simulated GPUs)");
    }
    const int64_t want = on_cpu ? sent.cpu_size() : sent.size();
    if (g.size() != want) {
      return Status::Invalid(name + ": ran size " + std::to_string(g.size()) + ", the challenge " +
                             "asked for " + std::to_string(want) + " on " +
                             (on_cpu ? "the CPU" : "a GPU"));
    }
    if (!FiniteNonNegative(g.tflops()) || !FiniteNonNegative(g.seconds()) || g.iterations() < 1) {
      return Status::Invalid(name + ": iterations, seconds and tflops must be finite and positive");
    }
    if (g.sample_rows_size() != g.sample_cols_size() ||
        g.sample_rows_size() != g.sample_values_size()) {
      return Status::Invalid(name + ": sample rows, columns and values differ in number");
    }
    spec.m = spec.n = spec.k = want;
    kernels::GemmReport r;
    r.digest = g.digest();
    for (int s = 0; s < g.sample_rows_size(); ++s) {
      r.samples.push_back({g.sample_rows(s), g.sample_cols(s), g.sample_values(s)});
    }
    if (Status st = kernels::VerifyGemmSamples(spec, r); !st.ok()) {
      return Status::Invalid(name + ": " + st.message());
    }
    v1::GpuCheckResult res;
    res.set_index(i);
    res.set_engine(g.engine().substr(0, 32));
    res.set_tflops(g.tflops());
    out.gpus.push_back(res);
    out.simulated = out.simulated || on_cpu;
  }
  return out;
}

}  // namespace corral::ctld
