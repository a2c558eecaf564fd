// One data-parallel SGD step of an MLP regression model, split where the gradient allreduce goes:
//
//   step->Backward(x, y, rows);                                  // local sums
//   allreduce.Sum(step->GradientBuffer(), step->BufferSize(), step->OnDevice());
//   float loss = *step->Apply(lr, global_rows);                  // θ ← θ − lr·g/global_rows
//
// The loss is L = ½·Σ_rows Σ_outputs (f(x) − y)², and Backward produces sums over its rows, not
// means: summed over ranks, the slices of a global batch give exactly the whole batch's sums, so
// 1 rank and N ranks follow the same trajectory up to float summation order.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/status.h"
#include "kernels/device.h"
#include "kernels/mlp.h"

namespace corral::kernels {

// The CPU twin and the reference for gradient checks: returns L over `rows` examples (x rows×in,
// y rows×out) and writes dL/dθ, laid out like model.params, into grad.
float LossAndGradientCpu(const Mlp& model, const float* x, const float* y, int64_t rows,
                         float* grad);

// L alone (for finite differences).
float LossCpu(const Mlp& model, const float* x, const float* y, int64_t rows);

class TrainStep {
 public:
  // Holds a copy of `model` on `device`, with room for batches of up to max_rows. Errors:
  // Invalid model or max_rows < 1; FailedPrecondition for the GPU without one.
  static Result<std::unique_ptr<TrainStep>> Create(const Mlp& model, int64_t max_rows,
                                                   Device device);
  virtual ~TrainStep() = default;

  // Local loss and gradient sums over `rows` examples (host arrays) into GradientBuffer().
  // Invalid when rows is outside [0, max_rows].
  virtual Status Backward(const float* x, const float* y, int64_t rows) = 0;

  // BufferSize() floats: the gradient sums (the layout of params), then the loss sum. GPU
  // memory when OnDevice().
  virtual float* GradientBuffer() = 0;
  int64_t BufferSize() const { return param_count_ + 1; }
  virtual bool OnDevice() const = 0;

  // θ ← θ − lr·g/global_rows with g the (reduced) buffer; returns the mean loss over the global
  // batch, loss_sum/global_rows. Invalid when global_rows < 1.
  virtual Result<float> Apply(float lr, int64_t global_rows) = 0;

  virtual Result<std::vector<float>> Params() const = 0;

 protected:
  explicit TrainStep(int64_t param_count) : param_count_(param_count) {}
  int64_t param_count_;
};

namespace gpu {
Result<std::unique_ptr<TrainStep>> CreateTrainStep(const Mlp& model, int64_t max_rows);
}  // namespace gpu

}  // namespace corral::kernels
