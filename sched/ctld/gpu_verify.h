// The controller's side of the attach-time GPU check (docs/protocol.md). A node that declares
// GPUs is sent a GemmChallenge with its Registered; it runs the verification GEMM
// (kernels/gemm_verify.h) on each GPU and answers with a VerifyReport that commits to each C
// (a Merkle root, kernels/gemm_commit.h). Only then does the controller pick the entries to open
// (GemmOpen); the node answers with the leaves that hold them, and CheckOpenings recomputes each
// entry from the seed in O(k) and compares it exactly. A node that computed only part of C
// fails unless every sample lands in that part. Until it passes, the node gets no jobs.
#pragma once

#include <cstdint>
#include <vector>

#include "common/node.h"
#include "common/status.h"
#include "fabric/proto/corral.pb.h"

namespace corral::ctld {

struct VerifyPolicy {
  int64_t size = 4096;           // m = n = k on a GPU
  int64_t cpu_size = 64;         // m = n = k on the CPU twin (a simulated GPU)
  int32_t samples = 16;          // sampled entries per GPU
  double seconds = 1.0;          // how long each GPU repeats the product, for its TFLOP/s
  bool allow_simulated = false;  // accept GPUs checked on the CPU (a demo cluster's --gpus)
  int64_t timeout_ms = 120000;   // a node that has not answered by then fails the check
  // Round one (the product alone) must come back within slack_ms plus the product's time at the
  // floor speed of the GPU models declared (gpu_ratings.h), and within timeout_ms.
  int64_t slack_ms = 20000;
  int64_t triad_elements = int64_t{1} << 26;      // per array of the bandwidth check on a GPU
  int64_t cpu_triad_elements = int64_t{1} << 16;  // on the CPU twin
  // How often a node's GPUs are checked again: at a random time between half and one and a
  // half of this after the last check, once the node is idle. 0: never.
  int64_t recheck_ms = 6 * 3600 * 1000LL;
  // The speeds' judgment (gpu_ratings.h): the TFLOP/s floor as a fraction of the model's
  // datasheet figure, and the GB/s floor likewise.
  double floor_fraction = 0.05;
  double gbps_floor_fraction = 0.25;
};

// Invalid, naming the option, for sizes outside the verifier's limits (1..32768, samples
// 1..4096, seconds 0..600, timeout at least 1 s).
Status ValidatePolicy(const VerifyPolicy& p);

// The challenge for one attach; `seed` decides the inputs, `challenge` the sampled entries.
v1::GemmChallenge MakeChallenge(const VerifyPolicy& p, uint64_t seed, uint64_t challenge);

struct VerifyOutcome {
  bool simulated = false;  // at least one GPU was checked on the CPU
  std::vector<v1::GpuCheckResult> gpus;
};

// The first answer, `report`, to the challenge `sent` to a node with the GPUs of `node`. Invalid,
// naming the GPU and the reason, when it answers another round, a declared GPU is missing,
// repeated or unknown, a GPU's check did not run, the shape is not the one asked for, a figure is
// not a finite non-negative number, a root is not 32 bytes, or a GPU was checked on the CPU
// while `allow_simulated` is false.
Result<VerifyOutcome> CheckCommitments(const v1::GemmChallenge& sent, const NodeProfile& node,
                                       const v1::VerifyReport& report, bool allow_simulated);

// The second answer: the leaves that hold the entries `open_challenge` picked, against the
// commitments of `report` (which passed CheckCommitments). Invalid, naming the GPU, when a GPU is
// missing or repeated, the number of leaves is not the samples asked for, a leaf does not lead to
// the committed root, or an opened entry is not the one recomputed from the seed.
Status CheckOpenings(const v1::GemmChallenge& sent, const NodeProfile& node,
                     const v1::VerifyReport& report, uint64_t open_challenge,
                     const v1::VerifyOpening& opening);

}  // namespace corral::ctld
