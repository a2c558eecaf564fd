// Shares of one GPU (--gpus=0.5, as the Alibaba trace's gpu_milli): how much of each GPU of a
// node is taken, which GPU a share goes on, and taking and giving shares back. A GPU held whole
// counts as kWholeGpu taken. Pure (DESIGN.md rule 1).
#pragma once

#include <cstdint>
#include <string>

#include "sched/core/fit.h"

namespace corral::sched {

inline constexpr int32_t kWholeGpu = 1000;  // thousandths of one GPU

// Thousandths of GPU `i` of `n` that are taken: 0 when free, kWholeGpu when held whole.
int32_t GpuUsedMilli(const NodeView& n, size_t i);

// The GPU of `model` ("" = any) that a share of `milli` (1..999) goes on, or -1 when none has
// room: a GPU already shared before a free one (so whole GPUs stay whole), the one with the
// least left after it among those, and the lowest index on a tie.
int32_t PickShare(const NodeView& n, const std::string& model, int32_t milli);

// Place's measure of a node for a share of `milli` on its GPU `gpu` (PickShare's; lower is
// better): first whether it breaks a whole GPU, then what is left on that GPU, then
// PlacementWaste.
int64_t ShareWaste(const NodeView& n, int32_t gpu, int32_t milli, int32_t cpus);

// Takes (sign < 0) or gives back (sign > 0) GPU `g` of `n`: whole when `milli` is 0, else a
// share of `milli`. Out-of-range GPUs are ignored; a share given back never leaves less than 0.
void ApplyGpu(NodeView* n, int32_t g, int32_t milli, int sign);

}  // namespace corral::sched
