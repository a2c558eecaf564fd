// corral-placement-bench: the FGD paper's fragmentation experiment (sched/sim/fill.h) on the
// Alibaba GPU 2023 trace: its 1,523 nodes (6,212 GPUs of 7 models, 310 nodes without GPUs) and
// its default pod list, pods arriving in order (cycling) and placed at once or refused, until the
// GPU demand that arrived is --until times the GPUs (default 1.3). Policies:
//   corral        Place with the mix of pods arrived so far (fragmentation-aware, FGD)
//   corral-plain  Place without a mix: best fit, shares on shared GPUs first
//   first-fit     the first node that fits, its first GPUs with room (Slurm's node order)
//   best-fit      the node left with the least free GPU capacity (Slurm-like, by GPU counts)
//   whole-gpus    Place, a share of a GPU given a whole device (Slurm without GPU sharing)
// The anchor is the FGD paper's own claim: up to 49 % fewer unallocated GPUs than its baselines
// (Weng et al., ATC '23). The last line is
//   RESULT alibaba_alloc_ratio=… baseline_alloc_ratio=… unallocated_cut=…
// (the allocation of corral and of first fit at the end, and corral's cut of first fit's
// unallocated share).
//   corral-placement-bench [--traces DIR] [--until X] [--csv FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "sched/sim/alibaba.h"
#include "sched/sim/fill.h"
#include "sched/sim/gavel.h"
#include "sched/sim/hetero.h"
#include "sched/sim/philly.h"

using corral::sim::FillPolicy;

int main(int argc, char** argv) {
  std::string traces, csv;
  double until = 1.3;
  size_t jobs = 2000;
  if (const char* e = std::getenv("CORRAL_TRACES"); e != nullptr && *e != '\0') traces = e;
  if (traces.empty()) traces = std::string(CORRAL_SOURCE_DIR) + "/../shared/data/traces";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--traces" || a == "--until" || a == "--csv" || a == "--philly-jobs") &&
        i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--philly-jobs") jobs = static_cast<size_t>(std::max(1L, std::atol(v.c_str())));
      if (a == "--traces") traces = v;
      if (a == "--csv") csv = v;
      if (a == "--until") until = std::atof(v.c_str());
      continue;
    }
    std::fprintf(stderr,
                 "usage: corral-placement-bench [--traces DIR] [--until X] [--csv FILE] "
                 "[--philly-jobs N]\n");
    return a == "--help" ? 0 : 2;
  }
  const std::string dir = traces + "/alibaba-gpu-v2023";
  auto w = corral::sim::ReadAlibaba(dir, dir + "/openb_node_list_all_node.csv", {});
  if (!w.ok()) {
    std::fprintf(stderr, "corral-placement-bench: %s\n", w.status().message().c_str());
    return 1;
  }
  corral::sim::Machine m;
  m.groups = w->machine;
  corral::sim::FillOptions o;
  o.until = until;
  std::printf("alibaba: %zu pods on %s; pods arrive until %.2fx the GPUs\n", w->jobs.size(),
              m.Describe().c_str(), until);
  std::printf("%-13s %10s %10s %14s %8s\n", "policy", "alloc@1x", "alloc@end", "pods placed",
              "time_s");
  std::ofstream out;
  if (!csv.empty()) {
    out.open(csv);
    out << "policy,arrived,allocated\n";
  }
  double corral = 0, first_fit = 0;
  for (FillPolicy p : {FillPolicy::kCorral, FillPolicy::kPlain, FillPolicy::kFirstFit,
                       FillPolicy::kBestFit, FillPolicy::kWholeGpus}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = corral::sim::Fill(*w, m, p, o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) {
      std::fprintf(stderr, "corral-placement-bench: %s\n", r.status().message().c_str());
      return 1;
    }
    std::printf("%-13s %10.4f %10.4f %7lld/%-6lld %8.2f\n", FillPolicyName(p),
                r->allocated_at_capacity, r->allocated, static_cast<long long>(r->placed),
                static_cast<long long>(r->pods), s);
    if (out) {
      for (const auto& x : r->curve)
        out << FillPolicyName(p) << "," << x.arrived << "," << x.allocated << "\n";
    }
    if (p == FillPolicy::kCorral) corral = r->allocated;
    if (p == FillPolicy::kFirstFit) first_fit = r->allocated;
  }
  const double cut = first_fit < 1 ? 1 - (1 - corral) / (1 - first_fit) : 0;
  std::printf(
      "corral leaves %.2f%% of the GPUs unallocated, first fit %.2f%%: %.0f%% fewer "
      "(FGD paper: up to 49%% fewer than its baselines)\n",
      100 * (1 - corral), 100 * (1 - first_fit), 100 * cut);

  // Philly on V100, P100 and K80 nodes with Gavel's throughputs.
  auto philly = corral::sim::ReadPhilly(traces + "/philly/philly.csv.gz", {});
  auto gavel = corral::sim::ReadGavel(traces + "/gavel/simulation_throughputs.json.gz");
  if (!philly.ok() || !gavel.ok()) {
    std::fprintf(stderr, "corral-placement-bench: %s\n",
                 (!philly.ok() ? philly.status() : gavel.status()).message().c_str());
    return 1;
  }
  corral::sim::HeteroOptions ho;
  ho.jobs = jobs;
  const auto t0 = std::chrono::steady_clock::now();
  auto h = corral::sim::CompareHeterogeneity(*philly, *gavel, ho);
  if (!h.ok()) {
    std::fprintf(stderr, "corral-placement-bench: %s\n", h.status().message().c_str());
    return 1;
  }
  std::printf(
      "\nphilly: the first %lld jobs of 1-%d GPUs on %s (%d GPUs each model), EASY, "
      "speeds from Gavel's table (%.1f s)\n",
      static_cast<long long>(h->jobs), ho.gpus_per_node, h->machine.Describe().c_str(),
      ho.nodes_per_model * ho.gpus_per_node,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  std::printf("%-22s %14s %14s %12s", "placement", "mean_jct_s", "makespan_s", "mean_wait_s");
  for (const std::string& m : h->models) std::printf(" %8s", ("on_" + m).c_str());
  std::printf("\n");
  for (const auto* run : {&h->agnostic, &h->aware, &h->fastest}) {
    std::printf("%-22s %14.0f %14lld %12.0f",
                run == &h->aware     ? "aware (fastest first)"
                : run == &h->fastest ? "gpu-choice=fastest"
                                     : "agnostic (best fit)",
                run->summary.mean_jct_s, static_cast<long long>(run->summary.makespan_s),
                run->summary.mean_wait_s);
    for (int64_t n : run->jobs_on) std::printf(" %8lld", static_cast<long long>(n));
    std::printf("\n");
  }
  const double jct_ratio = h->agnostic.summary.mean_jct_s / h->aware.summary.mean_jct_s;
  const double makespan_ratio = static_cast<double>(h->agnostic.summary.makespan_s) /
                                static_cast<double>(h->aware.summary.makespan_s);
  std::printf(
      "heterogeneity awareness: mean JCT %.2fx better, makespan %.2fx (Gavel reports up "
      "to 3.5x better average JCT)\n",
      jct_ratio, makespan_ratio);
  const double ect_ratio = h->agnostic.summary.mean_jct_s / h->fastest.summary.mean_jct_s;
  std::printf("--gpu-choice=fastest (earliest estimated finish): mean JCT %.2fx better\n",
              ect_ratio);
  std::printf(
      "RESULT alibaba_alloc_ratio=%.4f baseline_alloc_ratio=%.4f unallocated_cut=%.3f "
      "philly_jct_ratio=%.3f philly_makespan_ratio=%.3f philly_fastest_jct_ratio=%.3f\n",
      corral, first_fit, cut, jct_ratio, makespan_ratio, ect_ratio);
  return 0;
}
