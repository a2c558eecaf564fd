// corral sim: replays a workload trace through the scheduler corrald runs (sched/sim/replay.h)
// and reports what each policy does to the trace's users: waits, bounded slowdown,
// utilization, makespan, JCT; one policy or several side by side; a table, JSON, or a per-job
// CSV. Reads nothing but the trace and writes nothing but the asked-for files.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/table.h"
#include "sched/sim/replay.h"

namespace corral::cli {

namespace {

constexpr const char* kUsage =
    "Usage: corral sim --trace FILE [--compare fcfs,easy,conservative | --policy P] [--json]\n"
    "                  [--jobs-csv FILE] [--nodes N --cpus-per-node C] [--strict] [--check]\n\n"
    "Replays a workload trace (SWF, plain or .gz) on a virtual clock through the very scheduler\n"
    "corrald runs, and prints what each policy does to its jobs: mean, median and p95 wait, mean\n"
    "bounded slowdown (tau = 10 s), utilization, makespan, mean JCT, and the jobs that never ran\n"
    "with the reason. A job's time limit is its requested time, or its run time when the trace\n"
    "does not give one (the output says how many). Malformed lines are skipped and counted;\n"
    "--strict stops at the first.\n\n"
    "Example: corral sim --trace lublin_256.swf --compare fcfs,easy,conservative";

nlohmann::json SummaryJson(const sim::Summary& s) {
  nlohmann::json never = nlohmann::json::object();
  for (const auto& [why, n] : s.never_ran) never[why] = n;
  return {{"jobs", s.jobs},
          {"ran", s.ran},
          {"never_ran", never},
          {"mean_wait_s", s.mean_wait_s},
          {"median_wait_s", s.median_wait_s},
          {"p95_wait_s", s.p95_wait_s},
          {"mean_bounded_slowdown", s.mean_bounded_slowdown},
          {"utilization", s.utilization},
          {"makespan_s", s.makespan_s},
          {"mean_jct_s", s.mean_jct_s},
          {"limit_from_runtime", s.limit_from_runtime},
          {"cut_at_limit", s.cut_at_limit},
          {"trace_mean_wait_s", s.trace_mean_wait_s},
          {"passes", s.passes},
          {"violations", s.violations},
          {"violation_examples", s.violation_examples}};
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

int Sim(const Args& args) {
  po::options_description d("Options");
  std::string trace_path, policy, compare, jobs_csv;
  bool json = false, strict = false, check = false;
  int32_t nodes = 0, cpus_per_node = 0;
  d.add_options()("trace", po::value(&trace_path), "the workload trace (SWF, plain or .gz)")(
      "policy", po::value(&policy), "one policy: fcfs, easy (default) or conservative")(
      "compare", po::value(&compare), "several policies side by side, e.g. fcfs,easy")(
      "json", po::bool_switch(&json), "print JSON")(
      "jobs-csv", po::value(&jobs_csv), "write every job's submit, start, end and wait here")(
      "nodes", po::value(&nodes), "replay on this many nodes (default: the trace's machine)")(
      "cpus-per-node", po::value(&cpus_per_node), "with --nodes: CPUs per node (default 1)")(
      "strict", po::bool_switch(&strict), "stop at the first malformed line")(
      "check", po::bool_switch(&check), "verify the replay's invariants as it runs");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("sim", kUsage, args, d, nullptr, &vm, &exit)) return exit;
  if (trace_path.empty()) {
    std::cerr << "corral sim: --trace: give the trace file\n";
    return kExitUsage;
  }
  if (!policy.empty() && !compare.empty()) {
    std::cerr << "corral sim: give --policy or --compare, not both\n";
    return kExitUsage;
  }
  std::vector<sched::BackfillMode> modes;
  std::stringstream list(compare.empty() ? (policy.empty() ? "easy" : policy) : compare);
  for (std::string name; std::getline(list, name, ',');) {
    sched::BackfillMode m;
    if (!sched::ParseBackfillMode(name, &m)) {
      std::cerr << "corral sim: " << (compare.empty() ? "--policy" : "--compare") << ": \""
                << name.substr(0, 32) << "\": fcfs, easy or conservative\n";
      return kExitUsage;
    }
    modes.push_back(m);
  }
  if (modes.empty() || modes.size() > 8) {
    std::cerr << "corral sim: --compare: one to eight policies\n";
    return kExitUsage;
  }
  if (nodes < 0 || nodes > 1000000 || cpus_per_node < 0 || cpus_per_node > 1048576 ||
      (cpus_per_node > 0 && nodes == 0)) {
    std::cerr << "corral sim: --nodes 1..1000000, --cpus-per-node 1..1048576 (with --nodes)\n";
    return kExitUsage;
  }
  sim::SwfOptions so;
  so.strict = strict;
  Result<sim::SwfTrace> trace = sim::ReadSwf(trace_path, so);
  if (!trace.ok()) {
    std::cerr << "corral sim: " << trace.status().message() << "\n";
    return kExitFailed;
  }
  sim::Machine machine = sim::MachineOf(*trace);
  if (nodes > 0) {
    machine = {nodes, cpus_per_node > 0 ? cpus_per_node : 1, "--nodes and --cpus-per-node"};
  }
  const bool tty = !json && isatty(STDERR_FILENO);
  struct Run {
    sched::BackfillMode mode;
    sim::ReplayResult result;
    double seconds;
  };
  std::vector<Run> runs;
  for (sched::BackfillMode mode : modes) {
    sim::ReplayOptions ro;
    ro.mode = mode;
    ro.check = check;
    auto t0 = std::chrono::steady_clock::now();
    if (tty) {
      ro.progress = [&, t0, mode](int64_t ended, int64_t total, int64_t sim_s) {
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::cerr << "\r" << sched::BackfillModeName(mode) << ": " << ended << "/" << total
                  << " jobs ended, day " << sim_s / 86400 << ", "
                  << static_cast<int64_t>(wall > 0 ? static_cast<double>(ended) / wall : 0)
                  << " jobs/s   " << std::flush;
      };
    }
    Result<sim::ReplayResult> r = sim::Replay(*trace, machine, ro);
    if (tty) std::cerr << "\r\033[K" << std::flush;
    if (!r.ok()) {
      std::cerr << "corral sim: " << r.status().message() << "\n";
      return kExitUsage;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    runs.push_back({mode, std::move(*r), secs});
  }
  if (!jobs_csv.empty()) {
    std::ofstream out(jobs_csv);
    out << "policy,id,submit_s,start_s,end_s,procs,run_s,limit_s,wait_s,never_ran\n";
    for (const Run& run : runs) {
      for (const sim::JobOutcome& j : run.result.jobs) {
        out << sched::BackfillModeName(run.mode) << "," << j.id << "," << j.submit_s << ","
            << j.start_s << "," << j.end_s << "," << j.procs << "," << j.run_s << "," << j.limit_s
            << "," << (j.start_s >= 0 ? j.start_s - j.submit_s : -1) << ",\"" << j.never_ran
            << "\"\n";
      }
    }
    if (!out) {
      std::cerr << "corral sim: --jobs-csv " << jobs_csv << ": could not be written\n";
      return kExitFailed;
    }
  }
  int64_t violations = 0;
  for (const Run& run : runs) violations += run.result.summary.violations;
  if (json) {
    nlohmann::json policies = nlohmann::json::array();
    for (const Run& run : runs) {
      nlohmann::json p = SummaryJson(run.result.summary);
      p["policy"] = sched::BackfillModeName(run.mode);
      p["seconds"] = run.seconds;
      policies.push_back(std::move(p));
    }
    std::cout << nlohmann::json{{"trace",
                                 {{"path", trace_path},
                                  {"lines", trace->lines},
                                  {"jobs", trace->jobs.size()},
                                  {"skipped", trace->skipped},
                                  {"unreplayable", trace->unreplayable},
                                  {"errors", trace->errors}}},
                                {"machine",
                                 {{"nodes", machine.nodes},
                                  {"cpus_per_node", machine.cpus_per_node},
                                  {"source", machine.source}}},
                                {"policies", policies}}
                     .dump(2)
              << "\n";
    return violations ? kExitFailed : kExitOk;
  }
  std::cout << "trace: " << trace_path << ": " << trace->jobs.size() << " jobs (" << trace->skipped
            << " malformed lines skipped, " << trace->unreplayable
            << " without a run time or processor count)\n"
            << "machine: " << machine.nodes << " nodes x " << machine.cpus_per_node
            << (machine.cpus_per_node == 1 ? " CPU (" : " CPUs (") << machine.source << ")\n";
  for (const std::string& e : trace->errors) std::cout << "  skipped: " << e << "\n";
  const sim::Summary& first = runs[0].result.summary;
  if (first.limit_from_runtime > 0) {
    std::cout << "time limits: " << first.limit_from_runtime
              << " jobs have no requested time; their run time is their limit\n";
  }
  Table t({"POLICY", "JOBS", "RAN", "NEVER", "MEAN_WAIT_S", "MEDIAN_WAIT_S", "P95_WAIT_S",
           "MEAN_BSLD", "UTIL", "MAKESPAN_S", "MEAN_JCT_S", "SECONDS"});
  for (const Run& run : runs) {
    const sim::Summary& s = run.result.summary;
    t.Add(sched::BackfillModeName(run.mode), std::to_string(s.jobs), std::to_string(s.ran),
          std::to_string(s.jobs - s.ran), Fixed(s.mean_wait_s, 1), Fixed(s.median_wait_s, 0),
          Fixed(s.p95_wait_s, 0), Fixed(s.mean_bounded_slowdown, 2), Fixed(s.utilization, 3),
          std::to_string(s.makespan_s), Fixed(s.mean_jct_s, 1), Fixed(run.seconds, 2));
  }
  t.Print(std::cout);
  if (first.trace_mean_wait_s >= 0) {
    std::cout << "the trace's own recorded mean wait: " << Fixed(first.trace_mean_wait_s, 1)
              << " s\n";
  }
  for (const Run& run : runs) {
    for (const auto& [why, n] : run.result.summary.never_ran) {
      std::cout << sched::BackfillModeName(run.mode) << ": " << n << " never ran: " << why << "\n";
    }
    for (const std::string& v : run.result.summary.violation_examples) {
      std::cout << sched::BackfillModeName(run.mode) << ": check failed: " << v << "\n";
    }
  }
  return violations ? kExitFailed : kExitOk;
}

}  // namespace corral::cli
