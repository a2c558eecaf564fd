// The verification GEMM: proves that a provider's GPU computes correctly, and measures how fast.
//
// C = A·B, with A (m×k) and B (k×n) generated from a 64-bit seed where the product runs, so
// nothing large crosses the wire. Inputs are BF16 or FP16, accumulation is FP32 (tensor cores on
// the GPU).
//
// Exactness is by construction: every input is a multiple of 1/8 in [-1, 1] (exact in BF16 and
// FP16), so every product is a multiple of 1/64 and every partial sum of k ≤ 32768 products is a
// multiple of 1/64 below 2^15 in magnitude, which FP32 holds exactly. A correct device therefore
// computes C exactly, whatever its summation order. So:
//  - the digest of C is the same bit for bit on every correct GPU and on the CPU twin;
//  - a verifier recomputes any entry of C on its CPU in O(k) and compares it exactly.
//
// The verifier picks `challenge`, which decides which entries are sampled, so a prover cannot
// precompute only those; but a prover that learns the challenge before it commits to C can
// compute just those entries, so to prove the work, not only the hardware, the challenge must
// come after a commitment to all of C (kernels/gemm_commit.h; corrald's attach check does so:
// docs/protocol.md).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kernels/device.h"
#include "kernels/seeded.h"

namespace corral::kernels {

enum class GemmPrecision { kBf16, kFp16 };

// Which GPU implementation runs the product. kAuto picks kSm90 on an sm_90 device for shapes it
// supports (m % 128 == 0, n % 256 == 0, k % 64 == 0), and kWmma otherwise.
enum class GemmEngine { kAuto, kSm90, kWmma };

struct GemmSpec {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  GemmPrecision precision = GemmPrecision::kBf16;
  uint64_t seed = 0;       // decides A and B
  uint64_t challenge = 0;  // decides which entries are sampled; chosen by the verifier
  int samples = 16;        // how many entries of C to return
  double seconds = 0;      // repeat the product for at least this long (0: once)
};

struct SampledEntry {
  int64_t row = 0;
  int64_t col = 0;
  float value = 0;
};

struct GemmReport {
  uint64_t digest = 0;                // DigestOf(C)
  std::vector<SampledEntry> samples;  // at SamplePositions(spec), in that order
  int64_t iterations = 0;             // products computed in the timed loop
  double seconds = 0;                 // wall time of the timed loop
  double tflops = 0;                  // 2·m·n·k·iterations / seconds / 1e12
  std::string engine;                 // "cpu", "sm90-wgmma-tma" or "wmma"
};

// "fp16" is kFp16; anything else kBf16 (the name a GemmChallenge carries).
GemmPrecision ParseGemmPrecision(std::string_view name);

// Limits: 1 ≤ m, n ≤ 65536; 1 ≤ k ≤ 32768 (the exactness bound); 0 ≤ samples ≤ 4096;
// 0 ≤ seconds ≤ 3600. Invalid names the field otherwise.
Status ValidateGemmSpec(const GemmSpec& spec);

// Runs the product for spec.seconds on `device` and reports digest, samples and speed. On the
// CPU the twin computes C in O(m·n·k): keep shapes small there. Errors: Invalid spec;
// FailedPrecondition for the GPU without one; Internal for a CUDA failure.
// With `c`, also hands over all of C (row-major m×n), e.g. to commit to it (gemm_commit.h).
Result<GemmReport> RunVerificationGemm(const GemmSpec& spec, Device device,
                                       std::vector<float>* c = nullptr);

// The verifier's side, O(samples·k) on the CPU: the report must hold exactly spec.samples
// entries, at SamplePositions(spec), each equal to ReferenceEntry. Invalid names the first
// mismatch otherwise. The digest is not checked here: compare it with another machine's.
Status VerifyGemmSamples(const GemmSpec& spec, const GemmReport& report);

// Positions of the sampled entries: a function of (challenge, m, n, samples) only.
std::vector<std::pair<int64_t, int64_t>> SamplePositions(const GemmSpec& spec);

// C[row][col] recomputed in O(k).
float ReferenceEntry(const GemmSpec& spec, int64_t row, int64_t col);

// The CPU twin: C (row-major m×n), computed in O(m·n·k).
std::vector<float> GemmCpu(const GemmSpec& spec);

// Order-independent digest of a row-major m×n matrix: the sum mod 2^64 of DigestTerm over all
// entries, so a GPU may add terms in any order (atomics) and still match.
uint64_t DigestOf(const float* c, int64_t m, int64_t n);

// ---- Shared by the device code and the CPU (the contract between them) ----

// A[row][col] = GemmInputA(seed, row, col), B[row][col] = GemmInputB(seed, row, col).
CORRAL_HD float GemmInput(uint64_t seed, uint64_t matrix, int64_t row, int64_t col) {
  uint64_t h = Hash(seed, matrix, static_cast<uint64_t>(row), static_cast<uint64_t>(col));
  return static_cast<float>(static_cast<int>(h % 17) - 8) * 0.125f;
}
CORRAL_HD float GemmInputA(uint64_t seed, int64_t row, int64_t col) {
  return GemmInput(seed, 0, row, col);
}
CORRAL_HD float GemmInputB(uint64_t seed, int64_t row, int64_t col) {
  return GemmInput(seed, 1, row, col);
}

// One entry's contribution to the digest. Both zeros hash alike, so a device that produces -0.0
// for an exact zero still matches.
CORRAL_HD uint64_t DigestTerm(int64_t row, int64_t col, float value) {
  uint32_t bits = 0;
  if (value != 0.0f) {
#if defined(__CUDA_ARCH__)
    bits = __float_as_uint(value);
#else
    std::memcpy(&bits, &value, sizeof bits);
#endif
  }
  uint64_t pos = (static_cast<uint64_t>(row) << 32) | static_cast<uint64_t>(col);
  return Mix64(Mix64(pos) ^ bits);
}

namespace gpu {

// The GPU side of RunVerificationGemm, with a choice of engine. kSm90 on an unsupported device
// or shape is FailedPrecondition. Built without CUDA: FailedPrecondition.
Result<GemmReport> RunVerificationGemm(const GemmSpec& spec, GemmEngine engine,
                                       std::vector<float>* c = nullptr);

}  // namespace gpu

}  // namespace corral::kernels
