// GPU forward pass of the MLP: one fused GEMM + bias + GELU kernel per layer.
#include <algorithm>
#include <utility>
#include <vector>

#include "kernels/cuda_call.h"
#include "kernels/dense.h"
#include "kernels/mlp.h"

namespace corral::kernels::gpu {

Result<std::vector<float>> MlpForward(const Mlp& model, const float* x, int64_t rows) {
  CORRAL_RETURN_IF_ERROR(RequireGpu());
  const size_t layers = model.widths.size() - 1;
  int widest = 0;
  for (int w : model.widths) widest = std::max(widest, w);
  DeviceBuffer<float> params, a, b;
  CORRAL_RETURN_IF_ERROR(params.Allocate(model.params.size()));
  CORRAL_RETURN_IF_ERROR(params.CopyFromHost(model.params.data(), model.params.size()));
  CORRAL_RETURN_IF_ERROR(a.Allocate(static_cast<size_t>(rows * widest)));
  CORRAL_RETURN_IF_ERROR(b.Allocate(static_cast<size_t>(rows * widest)));
  CORRAL_RETURN_IF_ERROR(a.CopyFromHost(x, static_cast<size_t>(rows * model.widths.front())));
  for (size_t l = 0; l < layers; ++l) {
    const MlpLayer L = LayerOf(model.widths, l);
    CORRAL_RETURN_IF_ERROR(Dense(a.get(), rows, L.in, params.get() + L.w, params.get() + L.b, L.out,
                                 l + 1 < layers ? Activation::kGelu : Activation::kIdentity,
                                 b.get()));
    std::swap(a, b);
  }
  std::vector<float> out(static_cast<size_t>(rows * model.widths.back()));
  CORRAL_RETURN_IF_ERROR(a.CopyToHost(out.data(), out.size()));
  return out;
}

}  // namespace corral::kernels::gpu
