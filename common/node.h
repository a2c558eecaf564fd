// What a node offers, as profiled by corral-node with hwloc and sent at registration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral {

struct GpuDevice {
  int32_t index = 0;  // the CUDA ordinal on that node
  std::string model;  // lower case, e.g. "h100"
  int64_t mem_mib = 0;
  int32_t numa = -1;       // NUMA node the device hangs off; -1 = unknown
  std::string pci_bus_id;  // "0000:17:00.0" where known
  // The PCIe switch (the root port's subtree) it sits under, numbered within its node; GPUs
  // under one switch talk to each other without crossing the host bridge. -1 = unknown.
  int32_t pcie_switch = -1;
};

// What a provider asks of the jobs its node takes (corral-node --min-price, --accounts,
// --max-time). sched/core/terms.h checks them, and the job's own terms, in one filter.
struct ProviderTerms {
  int64_t min_price_micro = 0;        // per GPU-hour: its GPUs' model rate must be at least this
  std::vector<std::string> accounts;  // the accounts whose jobs it takes; empty = any
  int64_t max_time_ms = 0;            // the longest time limit it takes; 0 = any
  bool empty() const { return min_price_micro == 0 && accounts.empty() && max_time_ms == 0; }
  bool operator==(const ProviderTerms&) const = default;
};

// Why terms are malformed ("--min-price: ..."), or "": a price from 0 to a million credits per
// GPU-hour, at most 256 accounts of 1 to 64 printable characters, a time that is not negative.
std::string CheckTerms(const ProviderTerms& t);

struct NodeProfile {
  std::string name;
  int32_t cpus = 0;  // logical processors (PUs)
  int32_t cores = 0;
  int32_t sockets = 0;
  int32_t numa_nodes = 0;
  int64_t mem_mib = 0;
  std::vector<GpuDevice> gpus;
  ProviderTerms terms;
  std::string overlay_ip;  // in the mesh (fabric/nebula.h), while it runs nebula; else empty

  // Number of GPUs of `model` (lower case; empty = any model; "a|b": either; GpuModelMatches).
  int32_t GpuCount(const std::string& model) const;
};

// Whether a GPU of model `have` serves a request for `want`: lower case, empty = any model, and
// alternatives joined by '|' ("a100|h100": either). An empty alternative matches nothing.
bool GpuModelMatches(std::string_view want, std::string_view have);

// kVerifying: connected, its GPUs not checked yet; kFailed: its GPUs failed the check. Neither
// gets jobs.
// draining: held by an admin's drain with jobs still running; drained: held, none left.
enum class NodeState {
  kIdle = 0,
  kMixed,
  kAllocated,
  kDown,
  kVerifying,
  kFailed,
  kDraining,
  kDrained,
  kUnverified  // its GPUs' product was right, their speed not the model's (gpu_ratings.h)
};
const char* NodeStateName(NodeState s);

// Lower-cases an ASCII string (GPU model names are compared case-insensitively).
std::string Lower(std::string s);

}  // namespace corral
