// The controller's side of the attach-time GPU check. A node that declares GPUs is sent a
// GemmChallenge with its Registered; it runs the verification GEMM (kernels/gemm_verify.h) on
// each GPU and answers with a VerifyReport. CheckReport recomputes the sampled entries of C from
// the challenge's seed in O(samples·k) per GPU and compares them exactly, so a node cannot pass
// without computing the product. Until its report passes, the node gets no jobs.
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

// Checks `report` against the challenge `sent` to a node with the GPUs of `node`. Invalid, with a
// message naming the GPU and the reason, when the report answers another challenge, a declared
// GPU is missing, repeated or unknown, a GPU's check did not run, the shape is not the one asked
// for, a sampled entry is wrong, a figure is not a finite non-negative number, or a GPU was
// checked on the CPU while `allow_simulated` is false.
Result<VerifyOutcome> CheckReport(const v1::GemmChallenge& sent, const NodeProfile& node,
                                  const v1::VerifyReport& report, bool allow_simulated);

}  // namespace corral::ctld
