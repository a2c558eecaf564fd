// GPU descriptions that need no hardware: the --gpus list and GPU model names.
// Part of corral_profile; profile.h includes this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/node.h"
#include "common/status.h"

namespace corral {

// Most GPUs one --gpus list (one node) may declare.
inline constexpr int kMaxGpusPerNode = 64;

// Parses a --gpus list: comma-separated items COUNTxMODEL[@numaN], e.g.
// "2xH100@numa0,2xH100@numa1", "8xA100", "2xRTX4090@numa0". The word "none" gives no GPUs.
//  - COUNT: decimal, 1..kMaxGpusPerNode; the list as a whole also holds at most that many.
//  - MODEL: [A-Za-z0-9._-], at most 32 characters; lower-cased in the result.
//  - @numaN: NUMA node (logical index) N, which must be < numa_nodes; without it numa = -1.
// Memory comes from KnownGpuMemMib(model); pci_bus_id stays empty; indices are 0..n-1 in
// list order. Errors are Invalid with a message "--gpus=<spec>: <reason>" (the spec is
// shown shortened and with non-printable bytes escaped).
Result<std::vector<GpuDevice>> ParseGpuList(const std::string& spec, int numa_nodes);

// Memory in MiB of the known models (h100 80 GiB, a100 80 GiB, rtx4090 24 GiB, l40s 48 GiB,
// v100 32 GiB, t4 16 GiB); 0 for any other model. `model` is a normalised (lower-case) name.
int64_t KnownGpuMemMib(const std::string& model);

// Turns a marketing name as CUDA, NVML or hwloc report it into a short model name:
// lower-case; '-', '_' and '/' count as spaces; the words "nvidia", "geforce", "tesla" and
// "quadro" are dropped; the model is then the first remaining word, joined with the next
// one when it is "rtx", "gtx" or "titan"; only [a-z0-9] are kept. Examples:
//   "NVIDIA H100 80GB HBM3" -> "h100", "NVIDIA A100-SXM4-80GB" -> "a100",
//   "Tesla V100-SXM2-32GB" -> "v100", "NVIDIA GeForce RTX 4090" -> "rtx4090",
//   "NVIDIA RTX A6000" -> "rtxa6000", "NVIDIA L40S" -> "l40s".
// Returns "" when nothing is left (the caller picks a fallback).
std::string NormalizeGpuModel(const std::string& name);

}  // namespace corral
