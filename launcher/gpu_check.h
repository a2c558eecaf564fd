// corral-node's side of the attach-time GPU check (sched/ctld/gpu_verify.h): runs the
// controller's verification GEMM on each GPU the node declared and builds the report.
#pragma once

#include "common/node.h"
#include "fabric/proto/corral.pb.h"

namespace corral {

// For each GPU of `profile`, in order: on the device at its CUDA ordinal when this process sees
// one there, else on the CPU twin at the challenge's cpu_size (a declared GPU with no device
// behind it: a simulated node, which only a controller started with --allow-simulated-gpus
// accepts). A GPU whose check cannot run gets its error in the report; this never throws.
v1::VerifyReport RunGpuChecks(const v1::GemmChallenge& challenge, const NodeProfile& profile);

}  // namespace corral
