#include "kernels/train_step.h"

#include <algorithm>
#include <string>
#include <utility>

#include "kernels/dense.h"

namespace corral::kernels {

namespace {

// Activations of a forward pass: acts[0] = x, acts[l+1] = act(pre[l]).
struct Forward {
  std::vector<std::vector<float>> pre;
  std::vector<std::vector<float>> acts;
};

Forward RunForward(const Mlp& m, const float* x, int64_t rows) {
  const size_t layers = m.widths.size() - 1;
  Forward f;
  f.pre.resize(layers);
  f.acts.resize(layers + 1);
  f.acts[0].assign(x, x + rows * m.widths.front());
  for (size_t l = 0; l < layers; ++l) {
    const MlpLayer L = LayerOf(m.widths, l);
    f.pre[l].resize(static_cast<size_t>(rows * L.out));
    f.acts[l + 1].resize(f.pre[l].size());
    DenseCpu(f.acts[l].data(), rows, L.in, &m.params[L.w], &m.params[L.b], L.out,
             l + 1 < layers ? Activation::kGelu : Activation::kIdentity, f.acts[l + 1].data(),
             f.pre[l].data());
  }
  return f;
}

}  // namespace

float LossCpu(const Mlp& model, const float* x, const float* y, int64_t rows) {
  const Forward f = RunForward(model, x, rows);
  const std::vector<float>& out = f.acts.back();
  float loss = 0;
  for (size_t i = 0; i < out.size(); ++i) loss += 0.5f * (out[i] - y[i]) * (out[i] - y[i]);
  return loss;
}

float LossAndGradientCpu(const Mlp& model, const float* x, const float* y, int64_t rows,
                         float* grad) {
  const size_t layers = model.widths.size() - 1;
  const Forward f = RunForward(model, x, rows);
  // dz = dL/d(pre) of the current layer, starting at the output (identity activation).
  std::vector<float> dz(f.acts.back().size());
  float loss = 0;
  for (size_t i = 0; i < dz.size(); ++i) {
    dz[i] = f.acts.back()[i] - y[i];
    loss += 0.5f * dz[i] * dz[i];
  }
  std::vector<float> da;
  for (size_t l = layers; l-- > 0;) {
    const MlpLayer L = LayerOf(model.widths, l);
    // dW = acts[l]^T · dz ; db = Σ_rows dz
    GemmF32Cpu(true, false, L.in, L.out, rows, f.acts[l].data(), dz.data(), 0.0f, grad + L.w);
    ColumnSumsCpu(dz.data(), rows, L.out, grad + L.b);
    if (l == 0) break;
    // da = dz · W^T, then through the previous layer's GELU.
    da.assign(static_cast<size_t>(rows * L.in), 0.0f);
    GemmF32Cpu(false, true, rows, L.in, L.out, dz.data(), &model.params[L.w], 0.0f, da.data());
    const std::vector<float>& pre = f.pre[l - 1];
    for (size_t i = 0; i < da.size(); ++i) da[i] *= GeluGrad(pre[i]);
    dz.swap(da);
  }
  return loss;
}

namespace {

class CpuTrainStep : public TrainStep {
 public:
  CpuTrainStep(Mlp model, int64_t max_rows)
      : TrainStep(static_cast<int64_t>(model.params.size())),
        model_(std::move(model)),
        max_rows_(max_rows),
        buffer_(model_.params.size() + 1, 0.0f) {}

  Status Backward(const float* x, const float* y, int64_t rows) override {
    if (rows < 0 || rows > max_rows_) {
      return Status::Invalid("train step: batch of " + std::to_string(rows) + " rows, room for " +
                             std::to_string(max_rows_));
    }
    if (rows == 0) {
      std::fill(buffer_.begin(), buffer_.end(), 0.0f);
      return Status::Ok();
    }
    buffer_.back() = LossAndGradientCpu(model_, x, y, rows, buffer_.data());
    return Status::Ok();
  }
  float* GradientBuffer() override { return buffer_.data(); }
  bool OnDevice() const override { return false; }

  Result<float> Apply(float lr, int64_t global_rows) override {
    if (global_rows < 1) return Status::Invalid("train step: global batch must hold a row");
    const float scale = lr / static_cast<float>(global_rows);
    for (size_t i = 0; i < model_.params.size(); ++i) model_.params[i] -= scale * buffer_[i];
    return buffer_.back() / static_cast<float>(global_rows);
  }

  Result<std::vector<float>> Params() const override { return model_.params; }

 private:
  Mlp model_;
  int64_t max_rows_;
  std::vector<float> buffer_;
};

}  // namespace

Result<std::unique_ptr<TrainStep>> TrainStep::Create(const Mlp& model, int64_t max_rows,
                                                     Device device) {
  if (Status st = ValidateWidths(model.widths); !st.ok()) return st;
  if (model.params.size() != static_cast<size_t>(MlpParamCount(model.widths))) {
    return Status::Invalid("train step: model has " + std::to_string(model.params.size()) +
                           " params, its widths need " +
                           std::to_string(MlpParamCount(model.widths)));
  }
  if (max_rows < 1) return Status::Invalid("train step: max_rows must be at least 1");
  if (device == Device::kGpu) return gpu::CreateTrainStep(model, max_rows);
  return std::unique_ptr<TrainStep>(new CpuTrainStep(model, max_rows));
}

}  // namespace corral::kernels
