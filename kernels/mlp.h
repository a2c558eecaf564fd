// A multilayer perceptron, the model of the inference and training workloads: GELU on every
// hidden layer, identity on the output. Parameters live in one flat vector, layer by layer
// (W, in×out row-major, then b), so that a gradient allreduce is a single call.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "kernels/device.h"

namespace corral::kernels {

struct Mlp {
  std::vector<int> widths;    // inputs, hidden..., outputs
  std::vector<float> params;  // MlpParamCount(widths) floats
};

// At least two widths, each in [1, 65536]; Invalid names the offending entry otherwise.
Status ValidateWidths(const std::vector<int>& widths);

int64_t MlpParamCount(const std::vector<int>& widths);

// Where layer `layer` (0-based, < widths.size() - 1) keeps its weights and biases.
struct MlpLayer {
  int64_t w = 0;  // offset of W (in×out) in params
  int64_t b = 0;  // offset of b (out) in params
  int in = 0;
  int out = 0;
};
MlpLayer LayerOf(const std::vector<int>& widths, size_t layer);

// A model drawn from `seed`: weights uniform with He scaling (±sqrt(6/fan_in) on hidden layers,
// ±sqrt(3/fan_in) on the output), biases uniform in ±0.1. Same seed, same model everywhere.
// widths must be valid.
Mlp MlpSeeded(const std::vector<int>& widths, uint64_t seed);

// Outputs (rows × widths.back()) for inputs x (rows × widths.front()). The CPU twin.
std::vector<float> MlpForwardCpu(const Mlp& model, const float* x, int64_t rows);

// The same on `device`. Errors: Invalid model; FailedPrecondition for the GPU without one;
// Internal for a CUDA failure.
Result<std::vector<float>> MlpForward(const Mlp& model, const float* x, int64_t rows,
                                      Device device);

namespace gpu {
Result<std::vector<float>> MlpForward(const Mlp& model, const float* x, int64_t rows);
}  // namespace gpu

}  // namespace corral::kernels
