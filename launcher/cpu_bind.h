// Which CPUs a job's part on this node runs on: those of the NUMA nodes its GPUs hang off
// (issue 11), so that host-device copies stay on the near memory controller. Pure; corral-node
// applies the choice (SpawnSpec::cpus) and exports it as CORRAL_CPU_BIND.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace corral {

// `want` PUs (OS indices) out of `numa_pus` (per NUMA node, by logical index: its PUs' OS
// indices): first those of the NUMA nodes in `near` (in that order) that no other job holds
// (`busy`), then free ones of the other NUMA nodes, then busy ones near, then any, never one twice
// and never more than there are. Empty when want <= 0 or there are none; NUMA indices out of
// range are ignored.
std::vector<int32_t> PickCpus(const std::vector<std::vector<int32_t>>& numa_pus,
                              const std::vector<int32_t>& near, int32_t want,
                              const std::set<int32_t>& busy);

// "0-3,8,10-11": ascending, runs joined (the cpuset list format of Linux and Slurm).
std::string CpuList(std::vector<int32_t> pus);

}  // namespace corral
