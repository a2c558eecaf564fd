// corral sim's outputs (sim.cc runs the replays): the side-by-side table, JSON, the per-job
// CSV and the SVG chart. One Run per policy: a whole-trace replay, or the windows of
// RLScheduler's protocol (sched/sim/windows.h).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "sched/core/backfill.h"
#include "sched/sim/chart.h"
#include "sched/sim/replay.h"
#include "sched/sim/trace.h"

namespace corral::cli {

struct SimRun {
  std::string name;                     // the policy: "easy", "easy+fairshare", ...
  sim::ReplayResult result;             // the whole trace (windows: the last window)
  std::vector<sim::Summary> windows;    // per window, when the protocol is windows
  std::vector<size_t> window_first;     // each window's first job
  std::vector<int64_t> window_prefill;  // jobs running when each window began
  std::vector<sim::Sample> samples;     // for --svg
  double seconds = 0;
};

// What the table and JSON say about the input.
struct SimInput {
  std::string path;
  const sim::Workload* trace = nullptr;
  const sim::Machine* machine = nullptr;
};

nlohmann::json SimJson(const SimInput& in, const std::vector<SimRun>& runs);
void PrintSimTable(const SimInput& in, const std::vector<SimRun>& runs, std::ostream& out);
// Errors name the file.
Status WriteJobsCsv(const std::string& path, const std::vector<SimRun>& runs);
Status WriteSvg(const std::string& path, const SimInput& in, const std::vector<SimRun>& runs);

}  // namespace corral::cli
