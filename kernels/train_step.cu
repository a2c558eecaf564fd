// The GPU training step: forward with the fused dense kernel (saving pre-activations), the loss
// and its gradient at the output, then the backward GEMMs, all in device memory.
#include <algorithm>
#include <string>
#include <vector>

#include "kernels/cuda_call.h"
#include "kernels/dense.h"
#include "kernels/train_step.h"

namespace corral::kernels {

namespace {

constexpr int kThreads = 256;

// dz = out − y; atomically adds ½·Σ dz² to *loss.
__global__ void LossKernel(const float* __restrict__ out, const float* __restrict__ y, int64_t n,
                           float* __restrict__ dz, float* __restrict__ loss) {
  __shared__ float partial[kThreads / 32];
  float sum = 0.0f;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float d = out[i] - y[i];
    dz[i] = d;
    sum += 0.5f * d * d;
  }
  for (int off = 16; off > 0; off /= 2) sum += __shfl_down_sync(0xffffffffu, sum, off);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    float block = 0.0f;
    for (int w = 0; w < kThreads / 32; ++w) block += partial[w];
    atomicAdd(loss, block);
  }
}

__global__ void GeluBackKernel(float* __restrict__ da, const float* __restrict__ pre, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) da[i] *= GeluGrad(pre[i]);
}

__global__ void SgdKernel(float* __restrict__ params, const float* __restrict__ grad, int64_t n,
                          float scale) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) params[i] -= scale * grad[i];
}

class GpuTrainStep : public TrainStep {
 public:
  GpuTrainStep(const Mlp& model, int64_t max_rows)
      : TrainStep(static_cast<int64_t>(model.params.size())),
        widths_(model.widths),
        max_rows_(max_rows) {}

  Status Init(const Mlp& model) {
    const size_t layers = widths_.size() - 1;
    CORRAL_RETURN_IF_ERROR(params_.Allocate(model.params.size()));
    CORRAL_RETURN_IF_ERROR(params_.CopyFromHost(model.params.data(), model.params.size()));
    CORRAL_RETURN_IF_ERROR(buffer_.Allocate(model.params.size() + 1));
    CORRAL_RETURN_IF_ERROR(y_.Allocate(static_cast<size_t>(max_rows_ * widths_.back())));
    acts_.resize(layers + 1);
    pre_.resize(layers);
    int widest = 0;
    for (size_t l = 0; l <= layers; ++l) {
      CORRAL_RETURN_IF_ERROR(acts_[l].Allocate(static_cast<size_t>(max_rows_ * widths_[l])));
      if (l > 0) CORRAL_RETURN_IF_ERROR(pre_[l - 1].Allocate(acts_[l].size()));
      widest = std::max(widest, widths_[l]);
    }
    CORRAL_RETURN_IF_ERROR(dz_.Allocate(static_cast<size_t>(max_rows_ * widest)));
    CORRAL_RETURN_IF_ERROR(da_.Allocate(static_cast<size_t>(max_rows_ * widest)));
    return Status::Ok();
  }

  Status Backward(const float* x, const float* y, int64_t rows) override {
    if (rows < 0 || rows > max_rows_) {
      return Status::Invalid("train step: batch of " + std::to_string(rows) + " rows, room for " +
                             std::to_string(max_rows_));
    }
    float* grad = buffer_.get();
    CORRAL_CUDA_TRY(cudaMemset(grad, 0, buffer_.size() * sizeof(float)));
    if (rows == 0) return Status::Ok();
    const size_t layers = widths_.size() - 1;
    CORRAL_RETURN_IF_ERROR(acts_[0].CopyFromHost(x, static_cast<size_t>(rows * widths_[0])));
    CORRAL_RETURN_IF_ERROR(y_.CopyFromHost(y, static_cast<size_t>(rows * widths_.back())));
    for (size_t l = 0; l < layers; ++l) {
      const MlpLayer L = LayerOf(widths_, l);
      CORRAL_RETURN_IF_ERROR(gpu::Dense(acts_[l].get(), rows, L.in, params_.get() + L.w,
                                        params_.get() + L.b, L.out,
                                        l + 1 < layers ? Activation::kGelu : Activation::kIdentity,
                                        acts_[l + 1].get(), pre_[l].get()));
    }
    const int64_t n_out = rows * widths_.back();
    LossKernel<<<std::min<unsigned>(BlocksFor(n_out, kThreads), 1024), kThreads>>>(
        acts_[layers].get(), y_.get(), n_out, dz_.get(), grad + param_count_);
    CORRAL_CUDA_TRY(cudaGetLastError());
    for (size_t l = layers; l-- > 0;) {
      const MlpLayer L = LayerOf(widths_, l);
      CORRAL_RETURN_IF_ERROR(gpu::GemmF32(true, false, L.in, L.out, rows, acts_[l].get(), dz_.get(),
                                          0.0f, grad + L.w));
      CORRAL_RETURN_IF_ERROR(gpu::ColumnSums(dz_.get(), rows, L.out, grad + L.b));
      if (l == 0) break;
      CORRAL_RETURN_IF_ERROR(gpu::GemmF32(false, true, rows, L.in, L.out, dz_.get(),
                                          params_.get() + L.w, 0.0f, da_.get()));
      const int64_t n = rows * L.in;
      GeluBackKernel<<<BlocksFor(n, kThreads), kThreads>>>(da_.get(), pre_[l - 1].get(), n);
      CORRAL_CUDA_TRY(cudaGetLastError());
      std::swap(dz_, da_);
    }
    return Status::Ok();
  }

  float* GradientBuffer() override { return buffer_.get(); }
  bool OnDevice() const override { return true; }

  Result<float> Apply(float lr, int64_t global_rows) override {
    if (global_rows < 1) return Status::Invalid("train step: global batch must hold a row");
    const float scale = lr / static_cast<float>(global_rows);
    SgdKernel<<<BlocksFor(param_count_, kThreads), kThreads>>>(params_.get(), buffer_.get(),
                                                               param_count_, scale);
    CORRAL_CUDA_TRY(cudaGetLastError());
    float loss = 0;
    CORRAL_CUDA_TRY(
        cudaMemcpy(&loss, buffer_.get() + param_count_, sizeof(float), cudaMemcpyDeviceToHost));
    return loss / static_cast<float>(global_rows);
  }

  Result<std::vector<float>> Params() const override {
    std::vector<float> out(params_.size());
    CORRAL_RETURN_IF_ERROR(params_.CopyToHost(out.data(), out.size()));
    return out;
  }

 private:
  std::vector<int> widths_;
  int64_t max_rows_;
  DeviceBuffer<float> params_, buffer_, y_, dz_, da_;
  std::vector<DeviceBuffer<float>> acts_, pre_;
};

}  // namespace

namespace gpu {

Result<std::unique_ptr<TrainStep>> CreateTrainStep(const Mlp& model, int64_t max_rows) {
  CORRAL_RETURN_IF_ERROR(RequireGpu());
  auto step = std::make_unique<GpuTrainStep>(model, max_rows);
  CORRAL_RETURN_IF_ERROR(step->Init(model));
  return std::unique_ptr<TrainStep>(std::move(step));
}

}  // namespace gpu

}  // namespace corral::kernels
