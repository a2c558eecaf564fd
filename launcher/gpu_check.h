// corral-node's side of the attach-time GPU check (sched/ctld/gpu_verify.h, docs/protocol.md).
#pragma once

#include <cstdint>
#include <vector>

#include "common/node.h"
#include "fabric/proto/corral.pb.h"
#include "kernels/gemm_commit.h"

namespace corral {

class GpuChecks {
 public:
  // Round one: runs the verification GEMM once on each GPU of `profile` (the devices in
  // parallel, a thread each) and commits to each C; corrald times this round. A GPU runs on the
  // device at its CUDA ordinal when this process sees one there, else on the CPU twin at the
  // challenge's cpu_size (a declared GPU with no device behind it: a simulated node, which only a
  // controller started with
  // --allow-simulated-gpus accepts). A GPU whose check cannot run gets its error in the report.
  // Keeps each C (size² floats, on the host) for round two.
  static GpuChecks Run(const v1::GemmChallenge& challenge, const NodeProfile& profile);

  const v1::VerifyReport& report() const { return report_; }

  // Round two: the leaves that hold the entries `open.challenge` picks, for each GPU that
  // committed, with its speed measured now: the product repeated for the challenge's seconds,
  // and the STREAM triad (kernels/triad.h) for as long. An `open` for another round gets an
  // empty answer for this one's round.
  v1::VerifyOpening Open(const v1::GemmOpen& open) const;

 private:
  struct Kept {
    int32_t index = 0;
    int ordinal = -1;  // the CUDA device it ran on; -1: the CPU twin
    int64_t size = 0;
    double tflops = 0;  // of round one's single product
    std::vector<float> c;
    kernels::GemmCommitment tree;
  };
  v1::GemmChallenge challenge_;
  v1::VerifyReport report_;
  std::vector<Kept> kept_;
};

}  // namespace corral
