#include "launcher/gpu_check.h"

#include <optional>
#include <thread>

#include "common/log.h"
#include "kernels/device.h"
#include "kernels/gemm_verify.h"
#include "kernels/triad.h"

namespace corral {

namespace {

kernels::GemmSpec SpecFor(const v1::GemmChallenge& c, int64_t size) {
  kernels::GemmSpec spec;
  spec.m = spec.n = spec.k = size;
  spec.precision = kernels::ParseGemmPrecision(c.precision());
  spec.seed = c.seed();
  spec.samples = 0;  // the entries are opened later, from the commitment
  return spec;
}

}  // namespace

GpuChecks GpuChecks::Run(const v1::GemmChallenge& c, const NodeProfile& profile) {
  GpuChecks out;
  out.challenge_ = c;
  out.report_.set_round(c.round());
  const int devices = kernels::GpuCount();
  auto on_device = [&](size_t i) {
    return profile.gpus[i].index >= 0 && profile.gpus[i].index < devices;
  };
  struct One {
    v1::GpuCheck check;
    std::optional<Kept> kept;
  };
  auto run_one = [&](size_t i) {
    One one;
    v1::GpuCheck* g = &one.check;
    g->set_index(static_cast<int32_t>(i));
    const bool device = on_device(i);
    kernels::GemmSpec spec = SpecFor(c, device ? c.size() : c.cpu_size());
    spec.seconds = 0;  // the product once: corrald times this round
    g->set_size(spec.m);
    Kept kept;
    Result<kernels::GemmReport> r = Status::Internal("not run");
    if (device) {
      Status sel = kernels::SelectGpu(profile.gpus[i].index);  // this thread's device
      r = sel.ok() ? kernels::RunVerificationGemm(spec, kernels::Device::kGpu, &kept.c)
                   : Result<kernels::GemmReport>(sel);
    } else {
      r = kernels::RunVerificationGemm(spec, kernels::Device::kCpu, &kept.c);
    }
    if (!r.ok()) {
      g->set_error(r.status().message());
      spdlog::warn("GPU check of GPU {}: {}", i, r.status().message());
      return one;
    }
    kept.index = static_cast<int32_t>(i);
    kept.ordinal = device ? profile.gpus[i].index : -1;
    kept.size = spec.m;
    kept.tflops = r->tflops;
    kept.tree = kernels::GemmCommitment::Build(kept.c.data(), spec.m, spec.n);
    g->set_engine(r->engine);
    g->set_digest(r->digest);
    g->set_iterations(r->iterations);
    g->set_seconds(r->seconds);
    g->set_tflops(r->tflops);
    const kernels::Digest256& root = kept.tree.root();
    g->set_root(std::string(root.begin(), root.end()));
    spdlog::info("GPU check of GPU {} ({}): {}^3 on {}, {:.3g} TFLOP/s, root {}", i,
                 profile.gpus[i].model, spec.m, r->engine, r->tflops,
                 kernels::HexDigest(root).substr(0, 16));
    one.kept = std::move(kept);
    return one;
  };
  // Devices in parallel, a thread each (8 GPUs take one GPU's time); CPU stand-ins in turn.
  std::vector<One> results(profile.gpus.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < profile.gpus.size(); ++i) {
    if (on_device(i)) {
      threads.emplace_back([&, i] { results[i] = run_one(i); });
    } else {
      results[i] = run_one(i);
    }
  }
  for (auto& t : threads) t.join();
  for (One& one : results) {
    *out.report_.add_gpus() = std::move(one.check);
    if (one.kept) out.kept_.push_back(std::move(*one.kept));
  }
  return out;
}

v1::VerifyOpening GpuChecks::Open(const v1::GemmOpen& open) const {
  v1::VerifyOpening o;
  o.set_round(challenge_.round());
  if (open.round() != challenge_.round()) return o;
  // The speeds first, devices in parallel (a thread each, as in round one).
  struct Speed {
    double tflops = 0, gbps = 0;
  };
  std::vector<Speed> speeds(kept_.size());
  auto measure = [&](size_t i) {
    const Kept& k = kept_[i];
    const bool device = k.ordinal >= 0;
    Speed s;
    s.tflops = k.tflops;
    if (device && kernels::SelectGpu(k.ordinal).ok()) {
      if (challenge_.seconds() > 0) {
        kernels::GemmSpec spec = SpecFor(challenge_, k.size);
        spec.seconds = challenge_.seconds();
        auto r = kernels::RunVerificationGemm(spec, kernels::Device::kGpu);
        if (r.ok()) s.tflops = r->tflops;
      }
    }
    kernels::TriadSpec t;
    const int64_t elements = device ? challenge_.triad_elements() : challenge_.cpu_triad_elements();
    if (elements > 0) t.elements = elements;
    t.seconds = device ? challenge_.seconds() : 0;
    auto tr = kernels::RunTriad(t, device ? kernels::Device::kGpu : kernels::Device::kCpu);
    if (tr.ok() && tr->verified) {
      s.gbps = tr->triad_gbps;
    } else {
      spdlog::warn("GPU check of GPU {}: bandwidth not measured: {}", k.index,
                   tr.ok() ? "the triad's result was wrong" : tr.status().message());
    }
    speeds[i] = s;
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kept_.size(); ++i) {
    if (kept_[i].ordinal >= 0) {
      threads.emplace_back([&, i] { measure(i); });
    } else {
      measure(i);
    }
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < kept_.size(); ++i) {
    const Kept& k = kept_[i];
    v1::GpuOpening* g = o.add_gpus();
    g->set_index(k.index);
    g->set_tflops(speeds[i].tflops);
    g->set_gbps(speeds[i].gbps);
    spdlog::info("GPU check of GPU {}: {:.3g} TFLOP/s, {:.3g} GB/s", k.index, speeds[i].tflops,
                 speeds[i].gbps);
    kernels::GemmSpec spec = SpecFor(challenge_, k.size);
    spec.challenge = open.challenge();
    spec.samples = challenge_.samples();
    for (const auto& [row, col] : kernels::SamplePositions(spec)) {
      const kernels::LeafOpening leaf = k.tree.Open(k.c.data(), row, col);
      v1::LeafOpening* l = g->add_leaves();
      l->set_leaf(leaf.leaf);
      for (float v : leaf.values) l->add_values(v);
      for (const auto& h : leaf.path) l->add_path(std::string(h.begin(), h.end()));
    }
  }
  return o;
}

}  // namespace corral
