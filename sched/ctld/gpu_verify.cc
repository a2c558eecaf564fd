#include "sched/ctld/gpu_verify.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/gemm_commit.h"
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
  if (p.slack_ms < 0) return Status::Invalid("--verify-slack: must not be negative");
  if (p.recheck_ms < 0) return Status::Invalid("--verify-every: must not be negative");
  if (!(p.floor_fraction >= 0 && p.floor_fraction <= 1)) {
    return Status::Invalid("--verify-floor: must be a fraction in [0, 1]");
  }
  if (!(p.gbps_floor_fraction >= 0 && p.gbps_floor_fraction <= 1)) {
    return Status::Invalid("--verify-bandwidth-floor: must be a fraction in [0, 1]");
  }
  return Status::Ok();
}

v1::GemmChallenge MakeChallenge(const VerifyPolicy& p, uint64_t seed, uint64_t challenge) {
  v1::GemmChallenge c;
  c.set_seed(seed);
  c.set_round(challenge);
  c.set_size(p.size);
  c.set_cpu_size(p.cpu_size);
  c.set_samples(p.samples);
  c.set_seconds(p.seconds);
  c.set_precision("bf16");
  c.set_triad_elements(p.triad_elements);
  c.set_cpu_triad_elements(p.cpu_triad_elements);
  return c;
}

Result<VerifyOutcome> CheckCommitments(const v1::GemmChallenge& sent, const NodeProfile& node,
                                       const v1::VerifyReport& report, bool allow_simulated) {
  if (report.round() != sent.round()) {
    return Status::Invalid("verify report: answers round " + std::to_string(report.round()) +
                           ", not the one sent");
  }
  const size_t declared = node.gpus.size();
  if (static_cast<size_t>(report.gpus_size()) != declared) {
    return Status::Invalid("verify report: " + std::to_string(report.gpus_size()) +
                           " GPU checks for " + std::to_string(declared) + " declared GPUs");
  }
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
    if (g.root().size() != 32) {
      return Status::Invalid(name + ": the commitment to C must be a 32-byte root, not " +
                             std::to_string(g.root().size()) + " bytes");
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

Status CheckOpenings(const v1::GemmChallenge& sent, const NodeProfile& node,
                     const v1::VerifyReport& report, uint64_t open_challenge,
                     const v1::VerifyOpening& opening) {
  if (opening.round() != sent.round()) {
    return Status::Invalid("verify opening: answers round " + std::to_string(opening.round()) +
                           ", not the one open");
  }
  if (opening.gpus_size() != report.gpus_size()) {
    return Status::Invalid("verify opening: " + std::to_string(opening.gpus_size()) +
                           " GPUs opened, " + std::to_string(report.gpus_size()) + " committed");
  }
  std::vector<const v1::GpuCheck*> committed(node.gpus.size(), nullptr);
  for (const v1::GpuCheck& g : report.gpus()) committed[static_cast<size_t>(g.index())] = &g;
  std::vector<bool> seen(node.gpus.size(), false);
  for (const v1::GpuOpening& o : opening.gpus()) {
    const int32_t i = o.index();
    if (i < 0 || static_cast<size_t>(i) >= committed.size() || !committed[static_cast<size_t>(i)]) {
      return Status::Invalid("verify opening: GPU index " + std::to_string(i) +
                             " was not committed");
    }
    const std::string name = GpuName(node, i);
    if (seen[static_cast<size_t>(i)]) {
      return Status::Invalid("verify opening: " + name + " is opened twice");
    }
    seen[static_cast<size_t>(i)] = true;
    if (!FiniteNonNegative(o.tflops()) || !FiniteNonNegative(o.gbps())) {
      return Status::Invalid(name + ": tflops and gbps must be finite and not negative");
    }
    const v1::GpuCheck& g = *committed[static_cast<size_t>(i)];
    kernels::GemmSpec spec;
    spec.m = spec.n = spec.k = g.size();
    spec.precision = kernels::ParseGemmPrecision(sent.precision());
    spec.seed = sent.seed();
    spec.challenge = open_challenge;
    spec.samples = sent.samples();
    const auto positions = kernels::SamplePositions(spec);
    if (static_cast<size_t>(o.leaves_size()) != positions.size()) {
      return Status::Invalid(name + ": " + std::to_string(o.leaves_size()) +
                             " leaves opened, the challenge asked for " +
                             std::to_string(positions.size()));
    }
    kernels::Digest256 root{};
    std::copy(g.root().begin(), g.root().end(), root.begin());
    for (size_t s = 0; s < positions.size(); ++s) {
      const auto [row, col] = positions[s];
      const v1::LeafOpening& lo = o.leaves(static_cast<int>(s));
      kernels::LeafOpening leaf;
      leaf.leaf = lo.leaf();
      leaf.values.assign(lo.values().begin(), lo.values().end());
      for (const std::string& h : lo.path()) {
        if (h.size() != 32) return Status::Invalid(name + ": a path hash is not 32 bytes");
        kernels::Digest256 d{};
        std::copy(h.begin(), h.end(), d.begin());
        leaf.path.push_back(d);
      }
      float value = 0;
      if (Status st = kernels::VerifyLeafOpening(root, spec.m, spec.n, row, col, leaf, &value);
          !st.ok()) {
        return Status::Invalid(name + ": " + st.message());
      }
      const float want = kernels::ReferenceEntry(spec, row, col);
      if (!(value == want)) {
        return Status::Invalid(name + ": C[" + std::to_string(row) + "][" + std::to_string(col) +
                               "] = " + std::to_string(value) + ", expected " +
                               std::to_string(want) + " (wrong result: faulty GPU or forged C)");
      }
    }
  }
  return Status::Ok();
}

}  // namespace corral::ctld
