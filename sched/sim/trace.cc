#include "sched/sim/trace.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "sched/sim/alibaba.h"
#include "sched/sim/philly.h"

namespace corral::sim {

namespace {

constexpr int64_t kMaxNodes = 1000000;
constexpr int64_t kMaxCpusPerNode = 1 << 20;

int32_t Clamp32(int64_t v, int64_t hi) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, 0, hi));
}

}  // namespace

Workload FromSwf(const SwfTrace& t) {
  Workload w;
  w.format = "swf";
  w.max_procs = t.max_procs;
  w.max_nodes = t.max_nodes;
  w.lines = t.lines;
  w.skipped = t.skipped;
  w.unreplayable = t.unreplayable;
  w.errors = t.errors;
  w.jobs.reserve(t.jobs.size());
  for (const SwfJob& j : t.jobs) {
    SimJob s;
    s.id = j.id;
    s.submit_s = j.submit_s;
    s.wait_s = j.wait_s;
    s.run_s = j.run_s;
    s.req_time_s = j.req_time_s;
    s.procs = j.procs;
    s.user = j.user;
    s.line = j.line;
    w.jobs.push_back(std::move(s));
  }
  return w;
}

Machine MachineOf(const Workload& w) {
  if (!w.machine.empty()) {
    // Identical nodes anywhere in the list are one group (the order of a list is not kept).
    Machine m;
    for (const NodeGroup& g : w.machine) {
      auto same = std::find_if(m.groups.begin(), m.groups.end(), [&](const NodeGroup& x) {
        return x.cpus == g.cpus && x.mem_mib == g.mem_mib && x.gpus == g.gpus &&
               x.gpu_model == g.gpu_model;
      });
      if (same == m.groups.end()) {
        m.groups.push_back(g);
      } else {
        same->count += g.count;
      }
    }
    m.source = "the trace's node list";
    return m;
  }
  int64_t widest_cpus = 1, widest_gpus = 0;
  double gpu_seconds = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (const SimJob& j : w.jobs) {
    widest_cpus = std::max<int64_t>(widest_cpus, j.procs);
    widest_gpus = std::max<int64_t>(widest_gpus, j.gpus);
    gpu_seconds += static_cast<double>(j.gpus) * static_cast<double>(j.run_s);
    first = std::min(first, j.submit_s);
    last = std::max(last, j.submit_s + j.run_s);
  }
  if (widest_gpus > 0) {
    const double span = last > first ? static_cast<double>(last - first) : 1.0;
    const int64_t by_load = static_cast<int64_t>(std::ceil(gpu_seconds / span / 0.8 / 8));
    const int64_t nodes =
        std::clamp<int64_t>(std::max((widest_gpus + 7) / 8, by_load), 1, kMaxNodes);
    return Machine::Uniform(static_cast<int32_t>(nodes), 64, 8, "",
                            "no machine in the trace: 8-GPU nodes for the widest job and the "
                            "mean GPU demand at 80 % load");
  }
  if (w.max_nodes > 0 && w.max_procs >= w.max_nodes) {
    return Machine::Uniform(Clamp32(w.max_nodes, kMaxNodes + 1),
                            Clamp32(w.max_procs / w.max_nodes, kMaxCpusPerNode), 0, "",
                            "MaxNodes and MaxProcs from the trace's header");
  }
  if (w.max_nodes > 0) {
    return Machine::Uniform(Clamp32(w.max_nodes, kMaxNodes + 1), 1, 0, "",
                            "MaxNodes from the trace's header");
  }
  if (w.max_procs > 0) {
    return Machine::Uniform(Clamp32(w.max_procs, kMaxNodes + 1), 1, 0, "",
                            "MaxProcs from the trace's header");
  }
  return Machine::Uniform(Clamp32(widest_cpus, kMaxNodes + 1), 1, 0, "",
                          "no MaxNodes or MaxProcs in the header: the widest job's processors");
}

Result<Workload> ReadTrace(const std::string& path, const TraceOptions& o) {
  std::string format = o.format;
  std::error_code ec;
  if (format.empty() && std::filesystem::is_directory(path, ec)) format = "alibaba";
  if (!format.empty() && format != "swf" && format != "alibaba" && format != "philly") {
    return Status::Invalid("--format: \"" + format.substr(0, 32) + "\": swf, alibaba or philly");
  }
  if (format.empty()) {
    Result<std::string> text = ReadTraceText(path);
    if (!text.ok()) return text.status();
    const std::string_view head = std::string_view(*text).substr(0, 4096);
    format = LooksLikeAlibabaPods(head) ? "alibaba" : LooksLikePhilly(head) ? "philly" : "swf";
  }
  if (format == "alibaba") {
    AlibabaOptions a;
    a.strict = o.strict;
    std::string nodes = o.nodes_path;
    if (nodes.empty() && !std::filesystem::is_directory(path, ec)) {
      // A pod list beside the trace's node list: that is its machine.
      const auto beside = std::filesystem::path(path).parent_path() / kAlibabaNodeFile;
      if (std::filesystem::exists(beside, ec)) nodes = beside.string();
    }
    return ReadAlibaba(path, nodes, a);
  }
  if (format == "philly") {
    PhillyOptions p;
    p.strict = o.strict;
    return ReadPhilly(path, p);
  }
  SwfOptions s;
  s.strict = o.strict;
  Result<SwfTrace> t = ReadSwf(path, s);
  if (!t.ok()) return t.status();
  return FromSwf(*t);
}

}  // namespace corral::sim
