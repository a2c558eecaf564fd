// corral-sched-pass-bench: the time of one full backfill pass, EASY and conservative, on a
// synthetic cluster: 10,000 heterogeneous nodes (CPU nodes of two sizes, 8 x H100 and 4 x A100
// nodes), busy with running jobs that end over the next two days, and 100,000 pending jobs of
// mixed sizes (10% GPU jobs) with round time limits. Deterministic (fixed seed).
//
//   corral-sched-pass-bench [--nodes N] [--jobs N] [--passes N] [--idle-fraction F]
//
// Prints, per mode, the median pass time and what the pass decided, and one line
// "RESULT mode=… pass_ms=… jobs=… nodes=…" each. The goal is pass_ms <= 1000.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "sched/core/backfill.h"

using namespace corral;
using namespace corral::sched;

namespace {

constexpr TimeMs kMin = 60 * 1000;
constexpr TimeMs kHour = 60 * kMin;

NodeProfile MakeNode(int i, std::mt19937& rng) {
  NodeProfile p;
  p.name = "node" + std::to_string(i);
  p.numa_nodes = 2;
  int kind = std::uniform_int_distribution<int>(0, 99)(rng);
  auto gpus = [&](int n, const char* model) {
    for (int g = 0; g < n; ++g) p.gpus.push_back({g, model, 81920, g < n / 2 ? 0 : 1, ""});
  };
  if (kind < 60) {
    p.cpus = 64, p.mem_mib = 256 * 1024;
  } else if (kind < 80) {
    p.cpus = 128, p.mem_mib = 512 * 1024;
  } else if (kind < 90) {
    p.cpus = 96, p.mem_mib = 1024 * 1024;
    gpus(8, "h100");
  } else {
    p.cpus = 64, p.mem_mib = 512 * 1024;
    gpus(4, "a100");
  }
  return p;
}

JobSpec MakeJob(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  JobSpec s;
  int kind = pick(0, 99);
  if (kind < 10) {  // GPU jobs: one node with 1-8 GPUs, or 2-8 nodes with 4 each
    s.gpu_model = pick(0, 2) == 0 ? "" : (pick(0, 1) ? "h100" : "a100");
    if (pick(0, 3) == 0) {
      s.nodes = 1 << pick(1, 3);
      s.gpus_per_node = 4;
    } else {
      s.gpus = 1 << pick(0, s.gpu_model == "a100" ? 2 : 3);
    }
    s.ntasks = s.nodes;
    s.cpus_per_task = 8;
    s.mem_mib = 64 * 1024;
  } else if (kind < 70) {  // small: part of one node
    s.ntasks = 1 << pick(0, 4);
    s.cpus_per_task = 1 << pick(0, 1);
    s.mem_mib = 1024 * (1 << pick(0, 4));
  } else if (kind < 95) {  // whole nodes
    s.nodes = 1 << pick(0, 3);
    s.ntasks = s.nodes * 32;
    s.mem_mib = 64 * 1024;
  } else {  // wide
    s.nodes = 16 << pick(0, 3);
    s.ntasks = s.nodes * 64;
  }
  return s;
}

TimeMs MakeRuntime(std::mt19937& rng) {
  static const TimeMs kLimits[] = {10 * kMin, 30 * kMin, kHour,      2 * kHour,
                                   4 * kHour, 8 * kHour, 24 * kHour, 48 * kHour};
  int i = std::uniform_int_distribution<int>(0, 19)(rng);
  return i < 8 ? kLimits[i] : i < 19 ? kLimits[i % 6] : 0;  // a few unlimited
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int n_nodes = 10000, n_jobs = 100000, passes = 5;
  double idle_fraction = 0.05;  // nodes left without running jobs
  std::string only;             // --mode easy|conservative: just that one
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--nodes")
      n_nodes = std::atoi(argv[i + 1]);
    else if (a == "--jobs")
      n_jobs = std::atoi(argv[i + 1]);
    else if (a == "--passes")
      passes = std::atoi(argv[i + 1]);
    else if (a == "--idle-fraction")
      idle_fraction = std::atof(argv[i + 1]);
    else if (a == "--mode")
      only = argv[i + 1];
  }
  std::mt19937 rng(42);
  const TimeMs now = 1'800'000'000'000;
  std::vector<NodeView> free;
  std::vector<RunningJob> running;
  for (int i = 0; i < n_nodes; ++i) {
    free.push_back(NodeView::Idle(MakeNode(i, rng)));
    NodeView& v = free.back();
    if (std::uniform_real_distribution<double>(0, 1)(rng) < idle_fraction) continue;
    // One to four running jobs share the node, leaving a little free.
    int k = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int j = 0; j < k; ++j) {
      NodeAllocation a;
      a.node = v.profile.name;
      a.cpus =
          v.free_cpus / (k - j) - (j == k - 1 ? std::uniform_int_distribution<int>(0, 3)(rng) : 0);
      a.mem_mib = v.free_mem_mib / (k - j + 1);
      for (size_t g = 0; g < v.gpu_free.size(); ++g) {
        if (v.gpu_free[g] && a.gpu_indices.size() < v.gpu_free.size() / k + 1) {
          a.gpu_indices.push_back(static_cast<int32_t>(g));
        }
      }
      if (!Reserve({a}, &free)) continue;
      TimeMs end = now + std::uniform_int_distribution<TimeMs>(-kHour, 48 * kHour)(rng);
      running.push_back({static_cast<JobId>(running.size() + 1), {a}, end});
    }
  }
  std::vector<JobSpec> specs;
  specs.reserve(n_jobs);
  for (int i = 0; i < n_jobs; ++i) specs.push_back(MakeJob(rng));
  std::vector<PendingJob> queue;
  for (int i = 0; i < n_jobs; ++i) {
    queue.push_back({static_cast<JobId>(1000000 + i), &specs[i], MakeRuntime(rng), nullptr});
  }
  std::printf("cluster: %d nodes, %zu running jobs, %d pending jobs\n", n_nodes, running.size(),
              n_jobs);

  for (BackfillMode mode : {BackfillMode::kEasy, BackfillMode::kConservative}) {
    const char* name = mode == BackfillMode::kEasy ? "easy" : "conservative";
    if (!only.empty() && only != name) continue;
    const BackfillConfig cfg{mode, 7 * 24 * kHour, 365 * 24 * kHour};
    std::vector<double> ms;
    BackfillResult r;
    for (int p = 0; p < passes; ++p) {
      auto t0 = std::chrono::steady_clock::now();
      r = Backfill(now, free, running, queue, cfg);
      auto t1 = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    // The next pass, as a controller runs it: the starts applied, the reservations handed back.
    std::vector<NodeView> free2 = free;
    std::vector<RunningJob> running2 = running;
    std::vector<JobId> started;
    for (const StartDecision& d : r.starts) {
      Reserve(d.alloc, &free2);
      running2.push_back({d.id, d.alloc, now + 4 * kHour});
      started.push_back(d.id);
    }
    std::sort(started.begin(), started.end());
    std::vector<Reservation> held = r.reservations;
    std::sort(held.begin(), held.end(), [](auto& a, auto& b) { return a.id < b.id; });
    std::vector<PendingJob> next;
    for (PendingJob q : queue) {
      if (std::binary_search(started.begin(), started.end(), q.id)) continue;
      auto it = std::lower_bound(held.begin(), held.end(), q.id,
                                 [](const Reservation& v, JobId id) { return v.id < id; });
      if (it != held.end() && it->id == q.id) q.held = &*it;
      next.push_back(q);
    }
    auto t0 = std::chrono::steady_clock::now();
    BackfillResult r2 = Backfill(now + kMin, free2, running2, next, cfg);
    double next_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: median %.1f ms over %d passes: %zu start, %zu reserved, %zu wait\n", name,
                Median(ms), passes, r.starts.size(), r.reservations.size(), r.reasons.size());
    std::printf(
        "%s: the next pass (starts applied, reservations held): %.1f ms: %zu start, "
        "%zu reserved\n",
        name, next_ms, r2.starts.size(), r2.reservations.size());
    std::printf("RESULT mode=%s pass_ms=%.1f jobs=%d nodes=%d\n", name, Median(ms), n_jobs,
                n_nodes);
  }
  return 0;
}
