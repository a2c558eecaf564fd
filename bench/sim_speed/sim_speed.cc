// corral-sim-speed-bench: issue 10's speed figure. Replays, through sim::Replay (the very
// sched::Schedule corrald runs, one pass per event):
//   1. the whole KTH-SP2 trace (28,476 jobs on 100 CPUs) under EASY, from $CORRAL_TRACES or
//      ../shared/data/traces (skipped, kth_s=-1, when it is not there);
//   2. a synthetic workload of --jobs jobs (default 1,000,000) on --nodes nodes (default
//      10,000) of 32 CPUs: Poisson arrivals at an offered load of --load (default 0.85); half of
//      the jobs a few CPUs of one node, the rest 1 to 256 whole nodes (powers of two more
//      likely); run times log-uniform from 30 s to 1 day; requested times 1 to 3 times the run
//      time, rounded up to 5 minutes. Deterministic (seed 1).
// Goals (issue 10): KTH in under 2 s and the million jobs in under 60 s, on one core. The
// anchor: the published Slurm simulator runs about 100x real time (3.8 days of wall time per
// simulated year); printed beside our own ratio of simulated time to wall time, from the same
// run. The last line is "RESULT kth_s=… million_s=… jobs_per_s=… synthetic_s=… jobs=… nodes=…"
// (million_s -1 when --jobs or --nodes is not the goal's size).
//
//   corral-sim-speed-bench [--jobs N] [--nodes N] [--load F] [--policy easy|fcfs|conservative]
//                          [--traces DIR] [--no-kth] [--rebuild-profile]
// The simulator keeps the scheduler's profile of the running jobs from pass to pass
// (sched/core/profile_cache.h); --rebuild-profile builds it at every pass, as corrald does.
#include <malloc.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "sched/sim/replay.h"
#include "sched/sim/trace.h"

namespace {

using corral::sim::Machine;
using corral::sim::SimJob;
using corral::sim::Workload;

Workload Synthetic(int64_t jobs, int32_t nodes, int32_t cpus, double load) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  Workload w;
  w.format = "synthetic";
  w.jobs.reserve(static_cast<size_t>(jobs));
  double work = 0;  // CPU-seconds so far
  for (int64_t i = 0; i < jobs; ++i) {
    SimJob j;
    j.id = i + 1;
    if (u(rng) < 0.5) {
      j.procs = 1 + static_cast<int32_t>(u(rng) * 8);
      j.nodes = 1;
    } else {
      const int32_t log2 = static_cast<int32_t>(std::pow(u(rng), 2.0) * 9);  // 1..256
      j.nodes = u(rng) < 0.7 ? (1 << log2) : 1 + static_cast<int32_t>(u(rng) * (1 << log2));
      j.procs = j.nodes * cpus;
    }
    j.run_s = static_cast<int64_t>(30 * std::pow(86400.0 / 30, u(rng)));
    j.req_time_s = ((static_cast<int64_t>(j.run_s * (1 + 2 * u(rng))) + 299) / 300) * 300;
    j.user = static_cast<int64_t>(u(rng) * 500);
    work += static_cast<double>(j.run_s) * j.procs;
    w.jobs.push_back(j);
  }
  // Arrivals: a Poisson process whose rate gives the offered load over the whole span.
  const double span = work / (load * static_cast<double>(nodes) * cpus);
  std::exponential_distribution<double> gap(static_cast<double>(jobs) / span);
  double t = 0;
  for (SimJob& j : w.jobs) {
    j.submit_s = static_cast<int64_t>(t);
    t += gap(rng);
  }
  return w;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  // As corral sim does: a pass allocates and frees its scratch at every event, and glibc would
  // give the heap's top back to the kernel and fault it in again each time (a third of the time).
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  int64_t jobs = 1000000;
  int32_t nodes = 10000;
  double load = 0.85;
  bool kth = true, rebuild = false;
  std::string policy = "easy", traces;
  if (const char* e = std::getenv("CORRAL_TRACES"); e != nullptr && *e != '\0') traces = e;
  if (traces.empty()) traces = std::string(CORRAL_SOURCE_DIR) + "/../shared/data/traces";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "corral-sim-speed-bench: %s: needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--jobs") {
      jobs = std::atoll(next().c_str());
    } else if (a == "--nodes") {
      nodes = std::atoi(next().c_str());
    } else if (a == "--load") {
      load = std::atof(next().c_str());
    } else if (a == "--policy") {
      policy = next();
    } else if (a == "--traces") {
      traces = next();
    } else if (a == "--no-kth") {
      kth = false;
    } else if (a == "--rebuild-profile") {
      rebuild = true;
    } else {
      std::fprintf(stderr,
                   "usage: corral-sim-speed-bench [--jobs N] [--nodes N] [--load F] "
                   "[--policy P] [--traces DIR] [--no-kth] [--rebuild-profile]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  corral::sched::BackfillMode mode;
  if (jobs < 1 || nodes < 1 || nodes > 1000000 || !(load > 0 && load <= 2) ||
      !corral::sched::ParseBackfillMode(policy, &mode)) {
    std::fprintf(stderr,
                 "corral-sim-speed-bench: --jobs >= 1, --nodes 1..1000000, --load (0, 2], "
                 "--policy fcfs|easy|conservative\n");
    return 2;
  }
  corral::sim::ReplayOptions ro;
  ro.mode = mode;
  ro.reuse_profile = !rebuild;  // --rebuild-profile: every pass builds it, as corrald does
  std::printf("corral-sim-speed-bench: policy %s, one core\n", policy.c_str());
  double kth_s = -1;
  const std::string kth_path = traces + "/KTH-SP2-1996-2.1-cln.swf.gz";
  if (kth && std::filesystem::exists(kth_path)) {
    auto t0 = std::chrono::steady_clock::now();
    corral::Result<Workload> w = corral::sim::ReadTrace(kth_path, {});
    if (!w.ok()) {
      std::fprintf(stderr, "corral-sim-speed-bench: %s\n", w.status().message().c_str());
      return 1;
    }
    corral::Result<corral::sim::ReplayResult> r =
        corral::sim::Replay(*w, corral::sim::MachineOf(*w), ro);
    kth_s = Seconds(t0);
    if (!r.ok()) return 1;
    const double simulated = static_cast<double>(r->summary.makespan_s);
    std::printf(
        "KTH-SP2: %zu jobs, %lld passes, mean bsld %.2f: %.2f s (goal < 2 s: %s); "
        "%.0fx real time (Slurm's simulator: ~100x)\n",
        w->jobs.size(), static_cast<long long>(r->summary.passes), r->summary.mean_bounded_slowdown,
        kth_s, kth_s < 2 ? "met" : "NOT met", simulated / kth_s);
  } else {
    std::printf("KTH-SP2: skipped (%s)\n", kth ? (kth_path + " is not there").c_str() : "--no-kth");
  }
  const Workload w = Synthetic(jobs, nodes, 32, load);
  const Machine m = Machine::Uniform(nodes, 32, 0, "", "synthetic");
  int64_t last_ended = 0;
  auto t0 = std::chrono::steady_clock::now();
  ro.progress_every = 20000;
  ro.progress = [&](int64_t ended, int64_t total, int64_t sim_s) {
    if (ended - last_ended < total / 10 && ended != total) return;
    last_ended = ended;
    std::fprintf(stderr, "  %lld/%lld jobs ended, day %lld, %.1f s\n",
                 static_cast<long long>(ended), static_cast<long long>(total),
                 static_cast<long long>(sim_s / 86400), Seconds(t0));
  };
  corral::Result<corral::sim::ReplayResult> r = corral::sim::Replay(w, m, ro);
  const double million_s = Seconds(t0);
  if (!r.ok()) {
    std::fprintf(stderr, "corral-sim-speed-bench: %s\n", r.status().message().c_str());
    return 1;
  }
  const corral::sim::Summary& s = r->summary;
  std::printf(
      "synthetic: %lld jobs on %d nodes x 32 CPUs, offered load %.2f: %lld passes, "
      "utilization %.3f, mean wait %.0f s, mean bsld %.2f; profile built %lld time(s), reused "
      "%lld\n",
      static_cast<long long>(jobs), nodes, load, static_cast<long long>(s.passes), s.utilization,
      s.mean_wait_s, s.mean_bounded_slowdown, static_cast<long long>(r->profile_builds),
      static_cast<long long>(r->profile_reuses));
  std::printf(
      "synthetic: %.2f s (goal for 1,000,000 jobs on 10,000 nodes < 60 s: %s); %.0fx "
      "real time (Slurm's simulator: ~100x)\n",
      million_s,
      jobs == 1000000 && nodes == 10000 ? (million_s < 60 ? "met" : "NOT met")
                                        : "not the goal's size",
      static_cast<double>(s.makespan_s) / million_s);
  // million_s is the goal's figure: -1 unless this run was the goal's size.
  const bool goal_size = jobs == 1000000 && nodes == 10000;
  std::printf(
      "RESULT kth_s=%.3f million_s=%.2f jobs_per_s=%.0f synthetic_s=%.2f jobs=%lld "
      "nodes=%d\n",
      kth_s, goal_size ? million_s : -1.0, static_cast<double>(jobs) / million_s, million_s,
      static_cast<long long>(jobs), nodes);
  return 0;
}
