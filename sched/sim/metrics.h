// What a replay measures (the Parallel Workloads Archive's usual measures): per job its submit,
// start and end; over all, wait, bounded slowdown, utilization, makespan and JCT. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/node.h"
#include "sched/sim/workload.h"

namespace corral::sim {

// The machine a trace is replayed on: groups of identical nodes.
struct Machine {
  std::vector<NodeGroup> groups;
  std::string source;  // where it came from, for the output

  // `nodes` nodes of `cpus` CPUs and `gpus` GPUs of `model` each.
  static Machine Uniform(int32_t nodes, int32_t cpus, int32_t gpus = 0, std::string model = "",
                         std::string source = "");
  int64_t Nodes() const;
  int64_t Cpus() const;
  int64_t Gpus() const;
  int32_t MaxCpusPerNode() const;
  int32_t MaxGpusPerNode() const;
  // Its nodes as the scheduler sees them: "n1", "n2"... (one group) or "g2n1"..., memory 1 GiB
  // where it is not modelled, GPUs with no NUMA node or switch known.
  std::vector<NodeProfile> NodeProfiles() const;
  // "1213 nodes: 2 x 64 CPUs 2 p100, ..." (the first few groups).
  std::string Describe() const;
};

// One job as replayed.
struct JobOutcome {
  int64_t id = 0;  // the trace's job number
  int64_t submit_s = 0;
  int64_t start_s = -1, end_s = -1;  // -1: it never ran
  int32_t procs = 0;
  int32_t gpus = 0;
  int32_t gpu_milli = 0;  // when it ran on a share of one GPU: the share in thousandths
  int64_t run_s = 0;      // as replayed: the trace's run time, cut at the limit
  int64_t limit_s = 0;    // its time limit: the requested time, else its run time
  std::string never_ran;  // why, when it never ran (the pass's reason)
};

struct Summary {
  int64_t jobs = 0, ran = 0;
  std::map<std::string, int64_t> never_ran;  // by reason
  double mean_wait_s = 0, median_wait_s = 0, p95_wait_s = 0;
  double mean_bounded_slowdown = 0;  // max(1, (wait + run) / max(run, 10 s)), over jobs that ran
  double utilization = 0;            // sum of run x procs over makespan x the machine's CPUs
  double gpu_utilization = -1;       // the same over GPUs (-1: the machine has none)
  int64_t makespan_s = 0;            // first submit to last end
  double mean_jct_s = 0;             // end - submit
  int64_t limit_from_runtime = 0;    // jobs without a requested time: their run time was the limit
  int64_t cut_at_limit = 0;          // jobs whose run time exceeded their limit
  int64_t fractional_rounded = 0;    // jobs asking for a share of a GPU, given a whole one
  double trace_mean_wait_s = -1;     // the trace's own recorded waits (-1: not in the trace)
  int64_t passes = 0;
  int64_t violations = 0;                       // --check findings
  std::vector<std::string> violation_examples;  // the first 20
};

// The summary of `jobs` on `m`: waits, slowdowns and JCT over the jobs that ran, and the jobs
// that never ran counted by reason. The replay's own counters (passes, limit_from_runtime,
// cut_at_limit, violations, trace_mean_wait_s) are left as they are in `into`.
void Summarize(const std::vector<JobOutcome>& jobs, const Machine& m, Summary* into);

}  // namespace corral::sim
