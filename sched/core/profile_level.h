// What one node has free over one step of the availability profile (profile.h), and the algebra
// the profile needs of it: the least over several steps, taking and giving back a job's part.
// GPUs are bits of a 64-bit mask (bit i: GPU i wholly free); the first kShareGpus also keep the
// thousandths taken of them (gpu_share.h), so shares of one GPU can be planned: a GPU held whole
// counts kWholeGpu taken, and on those GPUs bit i is set exactly when nothing of it is taken.
// The same type is the part of a job on a node (a delta): its whole GPUs' bits, and the
// thousandths it takes of each GPU below kShareGpus (kWholeGpu for a whole one).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <optional>

#include "common/job.h"
#include "sched/core/gpu_share.h"

namespace corral::sched {

inline constexpr size_t kShareGpus = 8;  // GPUs past these are only ever taken whole

struct ProfileLevel {
  int32_t cpus = 0;
  int64_t mem_mib = 0;
  uint64_t gpus = 0;
  std::array<uint16_t, kShareGpus> used{};
  bool operator==(const ProfileLevel&) const = default;

  // Nothing free: what an advance reservation leaves to others.
  static ProfileLevel None() {
    ProfileLevel l;
    l.used.fill(kWholeGpu);
    return l;
  }
  // Each operation below takes `shares`: whether thousandths are kept at all. Until some GPU is
  // shared they are not (all zero), and a GPU is either wholly free or held whole.

  // The least of this and `o`: what is free throughout both.
  void Meet(const ProfileLevel& o, bool shares) {
    cpus = std::min(cpus, o.cpus);
    mem_mib = std::min(mem_mib, o.mem_mib);
    gpus &= o.gpus;
    if (!shares) return;
    for (size_t k = 0; k < kShareGpus; ++k) used[k] = std::max(used[k], o.used[k]);
  }
  // Takes (sign < 0) or gives back (sign > 0) the part `d`.
  void Apply(const ProfileLevel& d, int sign, bool shares) {
    cpus += sign * d.cpus;
    mem_mib += sign * d.mem_mib;
    gpus = sign < 0 ? gpus & ~d.gpus : gpus | d.gpus;
    if (!shares) return;
    for (size_t k = 0; k < kShareGpus; ++k) {
      if (!d.used[k]) continue;
      const int v = std::clamp(int{used[k]} - sign * int{d.used[k]}, 0, int{kWholeGpu});
      used[k] = static_cast<uint16_t>(v);
      gpus = v == 0 ? gpus | (uint64_t{1} << k) : gpus & ~(uint64_t{1} << k);
    }
  }
  // Sets the thousandths from the bits, as they are while no GPU is shared: 0 where wholly free,
  // else kWholeGpu.
  void KeepShares() {
    for (size_t k = 0; k < kShareGpus; ++k) used[k] = (gpus >> k) & 1 ? 0 : kWholeGpu;
  }
  // Adds the part `d` to this part (the caller checked that no GPU goes over whole).
  void Add(const ProfileLevel& d) {
    cpus += d.cpus;
    mem_mib += d.mem_mib;
    gpus |= d.gpus;
    for (size_t k = 0; k < kShareGpus; ++k) used[k] = static_cast<uint16_t>(used[k] + d.used[k]);
  }
  // Whether the part `d` is free here; GPUs outside `capacity` never are.
  bool Holds(const ProfileLevel& d, uint64_t capacity, bool shares) const {
    if (cpus < d.cpus || mem_mib < d.mem_mib || (gpus & d.gpus) != d.gpus) return false;
    if (!shares) return true;  // the caller keeps shares on before one is reserved
    for (size_t k = 0; k < kShareGpus; ++k) {
      if (!d.used[k]) continue;
      if (!(capacity & (uint64_t{1} << k)) || used[k] + d.used[k] > kWholeGpu) return false;
    }
    return true;
  }
  // Whether one of the GPUs in `mask` has `milli` thousandths left.
  bool HasShare(uint64_t mask, int32_t milli, bool shares) const {
    if (!shares) return (gpus & mask) != 0;
    for (size_t k = 0; k < kShareGpus; ++k) {
      if ((mask & (uint64_t{1} << k)) && used[k] + milli <= kWholeGpu) return true;
    }
    return false;
  }
};

// The part of one allocation entry on its node, or nullopt if a GPU is out of range or named
// twice. A share of a GPU past kShareGpus is planned as the whole GPU.
inline std::optional<ProfileLevel> PartOf(const NodeAllocation& a) {
  ProfileLevel l{a.cpus, a.mem_mib, 0, {}};
  const bool share = a.gpu_milli > 0 && a.gpu_milli < kWholeGpu;
  for (int32_t i : a.gpu_indices) {
    if (i < 0 || static_cast<size_t>(i) >= 64 || (l.gpus & (uint64_t{1} << i))) return std::nullopt;
    const size_t k = static_cast<size_t>(i);
    if (share && k < kShareGpus) {
      if (l.used[k]) return std::nullopt;
      l.used[k] = static_cast<uint16_t>(a.gpu_milli);
      continue;
    }
    l.gpus |= uint64_t{1} << k;
    if (k < kShareGpus) l.used[k] = kWholeGpu;
  }
  return l;
}

}  // namespace corral::sched
