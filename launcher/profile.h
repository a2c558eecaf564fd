// Node profiling for corral-node: what a node offers (CPUs, memory, NUMA, GPUs), read with
// hwloc from this machine, from an hwloc XML file, or from an hwloc synthetic description,
// so that one host can simulate many heterogeneous nodes.
#pragma once

#include <string>
#include <vector>

#include "common/node.h"
#include "common/status.h"
#include "launcher/gpu_spec.h"  // ParseGpuList, NormalizeGpuModel, KnownGpuMemMib

namespace corral {

struct ProfileOptions {
  std::string name;      // node name; empty = this host's hostname
  std::string topology;  // empty = this machine; a path to an hwloc XML file; or an hwloc
                         // synthetic string such as "pack:2 numa:4(memory=64GB) l3:1 core:8 pu:2"
  std::string gpus;      // empty = GPUs found in the topology; else a ParseGpuList spec such as
                         // "2xH100@numa0,2xH100@numa1", "8xA100" or "none"
};

// Builds the node profile:
//  - cpus = PUs, cores = cores (PUs when the topology has no cores), sockets = packages (1 when
//    none), numa_nodes = NUMA nodes, mem_mib = sum of the NUMA nodes' local memory (bytes / MiB,
//    rounded down; the machine's total when the NUMA nodes report none). On this machine the
//    counts are those this process may use (hwloc's allowed set, e.g. a cgroup's cpus).
//  - gpus: from opts.gpus when set; else from the topology, as CUDA ordinals 0..n-1:
//      1. CoProc OS devices of subtype CUDA ("cudaN", ordered by N): model from the GPUModel
//         info (NormalizeGpuModel), memory from CUDAGlobalMemorySize (KiB);
//      2. else GPU OS devices under an NVIDIA PCI device (vendor 0x10de), one per PCI device;
//      3. else NVIDIA PCI devices of class 0x0300/0x0302; on this machine (not XML/synthetic)
//         model and memory come from NVML (libnvidia-ml.so.1 via dlopen) when it is there,
//         else model = "nvidia-<pci device id in hex>".
//    (2 and 3 are ordered by PCI bus id.) Memory falls back to KnownGpuMemMib(model). numa is
//    the logical index of the first NUMA node near the device (from its first non-I/O
//    ancestor); -1 when the device hangs off the whole machine and there are several NUMA
//    nodes. pci_bus_id is "dddd:bb:dd.f".
// A `topology` that names an existing path is read as XML; anything else non-empty as a
// synthetic description (at most 2^20 objects per level product, to keep memory bounded).
// Errors are Invalid, with a message naming the option ("--name", "--topology", "--gpus")
// and the reason; hwloc failures on this machine are Internal. Never throws.
Result<NodeProfile> BuildProfile(const ProfileOptions& opts);

// A node's name: `name`, else this host's name; Invalid, naming --name, when it is not 1..253
// letters, digits, '-', '_' or '.'.
Result<std::string> NodeName(const std::string& name);

// The PUs of each NUMA node of `topology` (as ProfileOptions::topology), by logical index (as
// GpuDevice::numa): their OS indices, those this process may use. One entry with every PU when
// the topology has no NUMA node. Errors as BuildProfile's.
Result<std::vector<std::vector<int32_t>>> NumaCpus(const std::string& topology);

}  // namespace corral
