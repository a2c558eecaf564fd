// Counter-based random numbers shared by host and device code. Every value is a pure function of
// a seed and a few counters, so a GPU kernel, its CPU twin and a remote verifier derive the same
// inputs without shipping them, in any order and on any number of ranks.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define CORRAL_HD __host__ __device__ __forceinline__
#else
#define CORRAL_HD inline
#endif

namespace corral::kernels {

// SplitMix64's finalizer: a bijection on 64-bit words with full avalanche.
CORRAL_HD uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

CORRAL_HD uint64_t Hash(uint64_t seed, uint64_t a) {
  return Mix64(seed ^ Mix64(a + 0x9e3779b97f4a7c15ULL));
}
CORRAL_HD uint64_t Hash(uint64_t seed, uint64_t a, uint64_t b) {
  return Hash(Hash(seed, a), b);
}
CORRAL_HD uint64_t Hash(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  return Hash(Hash(Hash(seed, a), b), c);
}

// Uniform in [0, 1) with 24 random bits, so the value is exact in float on every device.
CORRAL_HD float Uniform(uint64_t h) {
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

// Uniform in [-1, 1), also exact.
CORRAL_HD float Symmetric(uint64_t h) {
  return Uniform(h) * 2.0f - 1.0f;
}

}  // namespace corral::kernels
