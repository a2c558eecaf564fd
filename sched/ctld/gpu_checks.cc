// The controller's rounds of a node's GPU check (gpu_verify.h for the checks of each answer,
// gpu_ratings.h for the judgment of its speeds): the challenge and round one's deadline, the
// commitment (timed), the openings and the tier they earn, and the periodic checks of idle
// nodes. Methods of Controller::Impl, on the writer thread.
#include <cmath>
#include <random>

#include "common/log.h"
#include "sched/ctld/controller_impl.h"
#include "sched/ctld/gpu_ratings.h"

namespace corral::ctld {

namespace {

SpeedPolicy SpeedPolicyOf(const VerifyPolicy& v) {
  SpeedPolicy p;
  p.floor_fraction = v.floor_fraction;
  p.gbps_floor_fraction = v.gbps_floor_fraction;
  return p;
}

}  // namespace

void Controller::Impl::StartGpuCheck(NodeEntry& n, TimeMs now) {
  n.challenge = MakeChallenge(opts.verify, challenge_rng(), challenge_rng());
  n.verification = "pending";
  n.gpu_checks.clear();
  n.committed.Clear();
  n.next_check_ms = 0;
  n.verify_limit_ms = RoundOneDeadlineMs(n.profile, opts.verify.size, opts.verify.slack_ms,
                                         opts.verify.timeout_ms, SpeedPolicyOf(opts.verify));
  n.verify_deadline_ms = now + n.verify_limit_ms;
  n.verify_sent_mono_ms = MonotonicNowMs();
}

void Controller::Impl::FailCheck(const std::string& name, NodeEntry& n, const std::string& why,
                                 Batch& b) {
  n.verification = "failed: " + why;
  n.gpu_checks.clear();
  n.committed.Clear();
  n.last_check_ms = WallNowMs();
  n.next_check_ms = 0;  // checked again when it registers again
  spdlog::warn("node {}: GPU check failed: {}", name, why);
  b.nodes_changed = true;
}

void Controller::Impl::ApplyVerifyReport(const std::string& name, NodeEntry& n,
                                         const v1::VerifyReport& report, Batch& b) {
  if (n.verification != "pending" || n.AwaitingOpening() || report.round() != n.challenge.round()) {
    spdlog::warn("node {}: a GPU check report that answers no open round; ignored", name);
    return;
  }
  n.round_one_ms = std::max<TimeMs>(MonotonicNowMs() - n.verify_sent_mono_ms, 1);
  auto outcome = CheckCommitments(n.challenge, n.profile, report, opts.verify.allow_simulated);
  if (!outcome.ok()) return FailCheck(name, n, outcome.status().message(), b);
  // Committed: only now are the entries to open chosen. The node measures its speeds before it
  // opens them, so round two has the whole timeout.
  n.committed = report;
  n.committed_outcome = *outcome;
  n.open_challenge = challenge_rng();
  n.verify_deadline_ms = WallNowMs() + opts.verify.timeout_ms;
  v1::ControllerMessage open;
  open.mutable_verify_open()->set_round(n.challenge.round());
  open.mutable_verify_open()->set_challenge(n.open_challenge);
  b.outbox.emplace_back(n.channel, std::move(open));
}

void Controller::Impl::ApplyVerifyOpening(const std::string& name, NodeEntry& n,
                                          const v1::VerifyOpening& opening, Batch& b) {
  if (n.verification != "pending" || !n.AwaitingOpening() ||
      opening.round() != n.challenge.round()) {
    spdlog::warn("node {}: a GPU check opening that answers no open round; ignored", name);
    return;
  }
  Status st = CheckOpenings(n.challenge, n.profile, n.committed, n.open_challenge, opening);
  if (!st.ok()) return FailCheck(name, n, st.message(), b);
  std::vector<v1::GpuCheckResult> gpus = n.committed_outcome.gpus;
  for (v1::GpuCheckResult& g : gpus) {
    for (const v1::GpuOpening& o : opening.gpus()) {
      if (o.index() != g.index()) continue;
      g.set_tflops(o.tflops());
      g.set_gbps(o.gbps());
    }
    for (const v1::GpuCheck& c : n.committed.gpus()) {
      if (c.index() != g.index() || g.engine() == "cpu") continue;
      const double size = static_cast<double>(c.size());
      g.set_bound_tflops(2 * size * size * size / (static_cast<double>(n.round_one_ms) / 1000) /
                         1e12);
    }
  }
  const SpeedJudgment judged = JudgeSpeeds(n.profile, gpus, SpeedPolicyOf(opts.verify));
  if (!judged.failed.empty()) return FailCheck(name, n, judged.failed, b);
  n.committed.Clear();
  n.gpu_checks = gpus;
  n.last_check_ms = WallNowMs();
  if (!judged.unverified.empty()) {
    // The product is right, the speed is not the model's: no jobs, and the reason says why.
    n.verification = "unverified: " + judged.unverified;
    spdlog::warn("node {}: GPUs unverified: {}", name, judged.unverified);
  } else {
    n.verification = n.committed_outcome.simulated ? "simulated" : "verified";
  }
  if (opts.verify.recheck_ms > 0) {
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    n.next_check_ms =
        n.last_check_ms +
        static_cast<TimeMs>(static_cast<double>(opts.verify.recheck_ms) * jitter(challenge_rng));
  }
  std::string figures;
  for (const auto& g : n.gpu_checks) {
    figures += fmt::format("{}{}: {:.3g} TFLOP/s, {:.3g} GB/s, at least {:.3g} TFLOP/s ({})",
                           figures.empty() ? "" : "; ", g.index(), g.tflops(), g.gbps(),
                           g.bound_tflops(), g.engine());
  }
  spdlog::info("node {}: GPUs {}: {}", name, n.verification, figures);
  b.schedule = true;
  b.nodes_changed = true;
}

void Controller::Impl::TickGpuChecks(TimeMs now, Batch& b) {
  for (auto& [name, n] : nodes) {
    if (!n.connected) continue;
    if (n.verification == "pending" && now > n.verify_deadline_ms) {
      FailCheck(name, n,
                n.AwaitingOpening()
                    ? "no opening of the GPU check within " +
                          std::to_string(opts.verify.timeout_ms / 1000) + " s"
                    : "no answer to round one of the GPU check within " +
                          fmt::format("{:.1f}", static_cast<double>(n.verify_limit_ms) / 1000) +
                          " s (the product, at the floor speed of the GPUs it declares, plus " +
                          std::to_string(opts.verify.slack_ms / 1000) + " s)",
                b);
      continue;
    }
    // A periodic check, at a random time, of a node that runs nothing: no job is disturbed.
    if (n.next_check_ms > 0 && now >= n.next_check_ms && n.jobs.empty() && n.hold.state().empty() &&
        !n.profile.gpus.empty() && n.channel) {
      spdlog::info("node {}: checking its GPUs again", name);
      StartGpuCheck(n, now);
      v1::ControllerMessage m;
      *m.mutable_verify() = n.challenge;
      b.outbox.emplace_back(n.channel, std::move(m));
      b.nodes_changed = true;
    }
  }
}

}  // namespace corral::ctld
