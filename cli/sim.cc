// corral sim: replays a workload trace through the scheduler corrald runs (sched/sim/replay.h)
// and reports what each policy does to the trace's users: waits, bounded slowdown,
// utilization, makespan, JCT; one policy or several side by side, over the whole trace or in
// RLScheduler's windows; a table, JSON, a per-job CSV or an SVG chart (sim_report.h). Reads
// nothing but the trace and writes nothing but the asked-for files.
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <sstream>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/sim_cluster.h"
#include "cli/sim_jobs_h5.h"
#include "cli/sim_report.h"
#include "common/subprocess.h"
#include "sched/sim/windows.h"

namespace corral::cli {

namespace {

constexpr const char* kUsage =
    "Usage: corral sim --trace FILE [--compare fcfs,easy,conservative | --policy P] [--json]\n"
    "                  [--jobs-csv FILE] [--jobs-h5 FILE] [--svg FILE] [--nodes N --cpus-per-node "
    "C | --cluster F]\n"
    "                  [--windows K --window-jobs W --seed S] [--strict] [--check]\n\n"
    "Replays a workload trace on a virtual clock through the very scheduler corrald runs, and\n"
    "prints what each policy does to its jobs: mean, median and p95 wait, mean bounded slowdown\n"
    "(tau = 10 s), utilization, makespan, mean JCT, and the jobs that never ran with the reason.\n"
    "Traces: SWF (Parallel Workloads Archive, plain or .gz), the Alibaba GPU 2023 pod list (or\n"
    "its directory, with its node list as the machine) and the Philly trace in Pollux's form;\n"
    "the format is told from the content. A job's time limit is its requested time, or its run\n"
    "time when the trace gives none (the output says how many). Malformed lines are skipped and\n"
    "counted; --strict stops at the first.\n\n"
    "Examples:\n"
    "  corral sim --trace lublin_256.swf --compare fcfs,easy,conservative\n"
    "  corral sim --trace KTH-SP2-1996-2.1-cln.swf.gz --compare easy,easy+fairshare\n"
    "  corral sim --trace lublin_256.swf --windows 10 --window-jobs 1024 --seed 1\n"
    "  corral sim --trace alibaba-gpu-v2023/ --svg alibaba.svg\n"
    "  corral sim --trace lublin_256.swf --cluster examples/cluster.yaml";

struct Flags {
  std::string trace_path, format, nodes_path, policy, compare, jobs_csv, jobs_h5, svg, cluster;
  bool json = false, strict = false, check = false, no_prefill = false, whole_gpus = false;
  int32_t nodes = 0, cpus_per_node = 0, gpus_per_node = 0, windows = 0, window_jobs = 1024;
  uint64_t seed = 1;
};

// A policy: a backfill mode, with fair share as a priority factor or not.
struct Policy {
  sched::BackfillMode mode;
  bool fairshare;
  std::string name;
};

// The policies named by --policy or --compare; empty after printing the error.
std::vector<Policy> Policies(const Flags& f) {
  std::vector<Policy> out;
  std::stringstream list(f.compare.empty() ? (f.policy.empty() ? "easy" : f.policy) : f.compare);
  for (std::string name; std::getline(list, name, ',');) {
    constexpr std::string_view kFair = "+fairshare";
    const bool fair = name.size() > kFair.size() && name.ends_with(kFair);
    sched::BackfillMode m;
    if (!sched::ParseBackfillMode(fair ? name.substr(0, name.size() - kFair.size()) : name, &m)) {
      std::cerr << "corral sim: " << (f.compare.empty() ? "--policy" : "--compare") << ": \""
                << name.substr(0, 32)
                << "\": fcfs, easy or conservative, each maybe with +fairshare\n";
      return {};
    }
    out.push_back({m, fair, name});
  }
  if (out.empty() || out.size() > 8) {
    std::cerr << "corral sim: --compare: one to eight policies\n";
    return {};
  }
  return out;
}

std::function<void(int64_t, int64_t, int64_t)> Progress(std::string name, std::string prefix) {
  auto t0 = std::chrono::steady_clock::now();
  return [t0, name, prefix](int64_t ended, int64_t total, int64_t sim_s) {
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "\r" << name << prefix << ": " << ended << "/" << total << " jobs ended, day "
              << sim_s / 86400 << ", "
              << static_cast<int64_t>(wall > 0 ? static_cast<double>(ended) / wall : 0)
              << " jobs/s   " << std::flush;
  };
}

}  // namespace

int Sim(const Args& args) {
  po::options_description d("Options");
  Flags f;
  d.add_options()("trace", po::value(&f.trace_path),
                  "the workload trace: SWF, Alibaba pod list or directory, Philly CSV")(
      "format", po::value(&f.format), "swf, alibaba or philly (default: told from the content)")(
      "alibaba-nodes", po::value(&f.nodes_path), "Alibaba: the node list to replay on")(
      "policy", po::value(&f.policy),
      "one policy: fcfs, easy (default) or conservative; +fairshare adds fair share")(
      "compare", po::value(&f.compare), "several policies side by side, e.g. fcfs,easy")(
      "json", po::bool_switch(&f.json), "print JSON")(
      "jobs-csv", po::value(&f.jobs_csv), "write every job's submit, start, end and wait here")(
      "jobs-h5", po::value(&f.jobs_h5),
      "the same as rows of an accounting file's /jobs table (a new HDF5 file)")(
      "svg", po::value(&f.svg), "draw utilization and queue length over time, one line a policy")(
      "nodes", po::value(&f.nodes), "replay on this many nodes (default: the trace's machine)")(
      "cpus-per-node", po::value(&f.cpus_per_node), "with --nodes: CPUs per node (default 1)")(
      "gpus-per-node", po::value(&f.gpus_per_node), "with --nodes: GPUs per node (default 0)")(
      "cluster", po::value(&f.cluster),
      "replay on the nodes of a cluster file (corral up's YAML), profiled as corral-node would")(
      "windows", po::value(&f.windows),
      "RLScheduler's protocol: this many random windows of --window-jobs jobs")(
      "window-jobs", po::value(&f.window_jobs), "jobs in a window (default 1024)")(
      "seed", po::value(&f.seed), "the windows' random seed (default 1)")(
      "no-prefill", po::bool_switch(&f.no_prefill), "windows start on an empty machine")(
      "strict", po::bool_switch(&f.strict), "stop at the first malformed line")(
      "whole-gpus", po::bool_switch(&f.whole_gpus),
      "give a job asking for a share of a GPU a whole one, as Slurm would")(
      "check", po::bool_switch(&f.check), "verify the replay's invariants as it runs");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("sim", kUsage, args, d, nullptr, &vm, &exit)) return exit;
  if (f.trace_path.empty()) {
    std::cerr << "corral sim: --trace: give the trace file\n";
    return kExitUsage;
  }
  if (!f.policy.empty() && !f.compare.empty()) {
    std::cerr << "corral sim: give --policy or --compare, not both\n";
    return kExitUsage;
  }
  const std::vector<Policy> policies = Policies(f);
  if (policies.empty()) return kExitUsage;
  if (f.nodes < 0 || f.nodes > 1000000 || f.cpus_per_node < 0 || f.cpus_per_node > 1048576 ||
      f.gpus_per_node < 0 || f.gpus_per_node > 64 ||
      ((f.cpus_per_node > 0 || f.gpus_per_node > 0) && f.nodes == 0)) {
    std::cerr << "corral sim: --nodes 1..1000000, --cpus-per-node 1..1048576, --gpus-per-node "
                 "0..64 (both with --nodes)\n";
    return kExitUsage;
  }
  if (!f.jobs_h5.empty()) {
    if (Status s = CheckJobsH5Path(f.jobs_h5); !s.ok()) {
      std::cerr << "corral sim: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  if (!f.cluster.empty() && f.nodes > 0) {
    std::cerr << "corral sim: give --cluster or --nodes, not both\n";
    return kExitUsage;
  }
  if (f.windows < 0 || f.windows > 1000 || f.window_jobs < 1 || f.window_jobs > 1000000) {
    std::cerr << "corral sim: --windows 1..1000, --window-jobs 1..1000000\n";
    return kExitUsage;
  }
  sim::TraceOptions to;
  to.format = f.format;
  to.nodes_path = f.nodes_path;
  to.strict = f.strict;
  Result<sim::Workload> trace = sim::ReadTrace(f.trace_path, to);
  if (!trace.ok()) {
    std::cerr << "corral sim: " << trace.status().message() << "\n";
    return trace.status().message().rfind("--format", 0) == 0 ? kExitUsage : kExitFailed;
  }
  sim::Machine machine = sim::MachineOf(*trace);
  if (f.nodes > 0) {
    machine =
        sim::Machine::Uniform(f.nodes, f.cpus_per_node > 0 ? f.cpus_per_node : 1, f.gpus_per_node,
                              "", "--nodes, --cpus-per-node and --gpus-per-node");
  }
  if (!f.cluster.empty()) {
    const std::string bin = BinDir() + "/corral-node";
    Result<sim::Machine> m = MachineOfClusterFile(f.cluster, bin);
    if (!m.ok()) {
      std::cerr << "corral sim: " << m.status().message() << "\n";
      return m.status().code() == Status::Code::kInvalid ? kExitUsage : kExitFailed;
    }
    machine = std::move(*m);
  }
  std::vector<sim::Window> windows;
  if (f.windows > 0) {
    sim::WindowOptions wo;
    wo.count = f.windows;
    wo.size = f.window_jobs;
    wo.seed = f.seed;
    wo.prefill = !f.no_prefill;
    Result<std::vector<sim::Window>> w = sim::SampleWindows(*trace, wo);
    if (!w.ok()) {
      std::cerr << "corral sim: " << w.status().message() << "\n";
      return kExitUsage;
    }
    windows = std::move(*w);
  }
  // A pass allocates and frees its scratch at every event; without this glibc gives the heap's
  // top back to the kernel and faults it in again each time (a third of a replay's time).
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  const bool tty = !f.json && isatty(STDERR_FILENO);
  std::vector<SimRun> runs;
  for (const Policy& policy : policies) {
    SimRun run;
    run.name = policy.name;
    auto t0 = std::chrono::steady_clock::now();
    sim::ReplayOptions ro;
    ro.mode = policy.mode;
    ro.fairshare = policy.fairshare;
    ro.check = f.check;
    ro.share_gpus = !f.whole_gpus;
    sim::SeriesRecorder rec(60);  // one point a minute at most
    // Windows are charted back to back: each one's clock is shifted to begin where the one
    // before it ended.
    int64_t shift = 0, first = -1, last = 0;
    if (!f.svg.empty()) {
      ro.sample = [&](int64_t t, double busy, int64_t queued) {
        if (first < 0) first = t;
        last = t - first + shift;
        rec.Add(last, busy, queued);
      };
    }
    const size_t replays = windows.empty() ? 1 : windows.size();
    for (size_t i = 0; i < replays; ++i) {
      if (tty) {
        ro.progress =
            Progress(policy.name, windows.empty() ? "" : " window " + std::to_string(i + 1));
      }
      if (!windows.empty()) ro.prefill = windows[i].prefill;
      if (first >= 0) shift = last + 1, first = -1;
      Result<sim::ReplayResult> r =
          sim::Replay(windows.empty() ? *trace : windows[i].jobs, machine, ro);
      if (tty) std::cerr << "\r\033[K" << std::flush;
      if (!r.ok()) {
        std::cerr << "corral sim: " << r.status().message() << "\n";
        return kExitUsage;
      }
      if (!windows.empty()) {
        run.windows.push_back(r->summary);
        run.window_first.push_back(windows[i].first);
        run.window_prefill.push_back(r->prefill_placed);
      }
      run.result = std::move(*r);
    }
    run.samples = rec.Take();
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    runs.push_back(std::move(run));
  }
  const SimInput in{f.trace_path, &*trace, &machine};
  for (const Status& st :
       {f.jobs_csv.empty() ? Status::Ok() : WriteJobsCsv(f.jobs_csv, runs),
        f.svg.empty() ? Status::Ok() : WriteSvg(f.svg, in, runs),
        f.jobs_h5.empty() ? Status::Ok()
                          : WriteJobsH5(f.jobs_h5, runs, BinDir() + "/corral-acct-import")}) {
    if (!st.ok()) {
      std::cerr << "corral sim: " << st.message() << "\n";
      return kExitFailed;
    }
  }
  int64_t violations = 0;
  for (const SimRun& run : runs) {
    violations += run.result.summary.violations;
    for (size_t i = 0; i + 1 < run.windows.size(); ++i) violations += run.windows[i].violations;
  }
  if (f.json) {
    std::cout << SimJson(in, runs).dump(2) << "\n";
  } else {
    PrintSimTable(in, runs, std::cout);
  }
  return violations ? kExitFailed : kExitOk;
}

}  // namespace corral::cli
