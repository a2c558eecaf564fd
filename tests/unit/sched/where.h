// Test helpers for the scheduler's unit tests: an allocation as one short, sorted string, and
// a plain CPU node.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "common/job.h"
#include "sched/core/fit.h"

namespace corral::sched::testing {

// "n1 n2[0,1] n3[2]*500 c1#1": nodes, their GPUs, a share of one GPU (in thousandths) and (when
// not 0) the hetjob component, sorted.
inline std::string Where(const Allocation& alloc) {
  std::vector<std::string> parts;
  for (const auto& a : alloc) {
    std::string s = a.node;
    if (!a.gpu_indices.empty()) {
      s += "[";
      for (size_t i = 0; i < a.gpu_indices.size(); ++i) {
        s += (i ? "," : "") + std::to_string(a.gpu_indices[i]);
      }
      s += "]";
    }
    if (a.gpu_milli) s += "*" + std::to_string(a.gpu_milli);
    if (a.component) s += "#" + std::to_string(a.component);
    parts.push_back(s);
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

// An idle, up node with `cpus` CPUs and 1 GiB, no GPUs.
inline NodeView CpuNode(const std::string& name, int cpus) {
  NodeProfile p;
  p.name = name;
  p.cpus = cpus;
  p.mem_mib = 1024;
  return NodeView::Idle(p);
}

}  // namespace corral::sched::testing
