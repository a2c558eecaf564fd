// The Alibaba GPU cluster trace 2023 reader (openb, "Beware of Fragmentation", ATC '23), for
// `corral sim`. A pod list CSV gives the jobs, a node list CSV the machine; both find their
// columns by the header's names (any order, extra columns ignored). Pure apart from reading the
// files; nothing throws; every problem is a Status or a counted, skipped line whose message reads
// "line N: <field>: <reason>" (node list: "nodes line N: ...", always an error).
//
// A pod becomes one job of one node: submit creation_time, wait scheduled - creation, run
// deletion - scheduled, ceil(cpu_milli / 1000) CPUs, memory_mib, num_gpu GPUs (a share of one
// in gpu_milli when 0 < gpu_milli < 1000 and num_gpu == 1), gpu_spec lower-cased as the model.
// A pod never scheduled (or never deleted) is well-formed but unreplayable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sched/sim/workload.h"

namespace corral::sim {

struct AlibabaOptions {
  bool strict = false;     // the first malformed pod line is an error, not a skipped line
  size_t max_errors = 20;  // messages kept in Workload::errors
};

// The file names of the trace's directory.
inline constexpr std::string_view kAlibabaPodFile = "openb_pod_list_default.csv";
inline constexpr std::string_view kAlibabaNodeFile = "openb_node_list_gpu_node.csv";

// Parses a pod list into jobs and, unless `nodes_csv` is empty, a node list into
// Workload::machine (identical consecutive nodes are one group). Errors: binary content ("not a
// text file"), a missing column ("line 1: header: no \"num_gpu\" column"), strict and a
// malformed pod line, any malformed node line ("nodes line N: ..."), no pod at all ("no jobs"),
// a node list without nodes ("nodes: no nodes").
Result<Workload> ParseAlibaba(std::string_view pods_csv, std::string_view nodes_csv,
                              const AlibabaOptions& opts);

// Reads `path`: the trace's directory (its kAlibabaPodFile, and its kAlibabaNodeFile when that
// exists) or a pod list file (plain or gzip). A non-empty `nodes_path` is the node list instead;
// for a pod list file "" means none. Errors name the file they are about.
Result<Workload> ReadAlibaba(const std::string& path, const std::string& nodes_path,
                             const AlibabaOptions& opts);

// Whether `text` looks like an Alibaba pod list: its first line names name, cpu_milli and
// num_gpu columns.
bool LooksLikeAlibabaPods(std::string_view text);

}  // namespace corral::sim
