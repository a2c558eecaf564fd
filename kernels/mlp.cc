#include "kernels/mlp.h"

#include <cmath>
#include <string>

#include "kernels/dense.h"
#include "kernels/seeded.h"

namespace corral::kernels {

Status ValidateWidths(const std::vector<int>& widths) {
  if (widths.size() < 2) {
    return Status::Invalid("mlp widths: need at least an input and an output width");
  }
  for (size_t i = 0; i < widths.size(); ++i) {
    if (widths[i] < 1 || widths[i] > 65536) {
      return Status::Invalid("mlp widths[" + std::to_string(i) +
                             "] = " + std::to_string(widths[i]) + ": must be in [1, 65536]");
    }
  }
  return Status::Ok();
}

int64_t MlpParamCount(const std::vector<int>& widths) {
  int64_t n = 0;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    n += static_cast<int64_t>(widths[l]) * widths[l + 1] + widths[l + 1];
  }
  return n;
}

MlpLayer LayerOf(const std::vector<int>& widths, size_t layer) {
  MlpLayer out;
  int64_t offset = 0;
  for (size_t l = 0; l < layer; ++l) {
    offset += static_cast<int64_t>(widths[l]) * widths[l + 1] + widths[l + 1];
  }
  out.in = widths[layer];
  out.out = widths[layer + 1];
  out.w = offset;
  out.b = offset + static_cast<int64_t>(out.in) * out.out;
  return out;
}

Mlp MlpSeeded(const std::vector<int>& widths, uint64_t seed) {
  Mlp m;
  m.widths = widths;
  m.params.resize(static_cast<size_t>(MlpParamCount(widths)));
  const size_t layers = widths.size() - 1;
  for (size_t l = 0; l < layers; ++l) {
    const MlpLayer L = LayerOf(widths, l);
    const bool hidden = l + 1 < layers;
    const float scale = std::sqrt((hidden ? 6.0f : 3.0f) / static_cast<float>(L.in));
    for (int64_t i = 0; i < static_cast<int64_t>(L.in) * L.out; ++i) {
      m.params[L.w + i] = scale * Symmetric(Hash(seed, l, 0, i));
    }
    for (int64_t o = 0; o < L.out; ++o) m.params[L.b + o] = 0.1f * Symmetric(Hash(seed, l, 1, o));
  }
  return m;
}

std::vector<float> MlpForwardCpu(const Mlp& model, const float* x, int64_t rows) {
  const size_t layers = model.widths.size() - 1;
  std::vector<float> cur(x, x + rows * model.widths.front());
  std::vector<float> next;
  for (size_t l = 0; l < layers; ++l) {
    const MlpLayer L = LayerOf(model.widths, l);
    next.assign(static_cast<size_t>(rows * L.out), 0.0f);
    DenseCpu(cur.data(), rows, L.in, &model.params[L.w], &model.params[L.b], L.out,
             l + 1 < layers ? Activation::kGelu : Activation::kIdentity, next.data());
    cur.swap(next);
  }
  return cur;
}

Result<std::vector<float>> MlpForward(const Mlp& model, const float* x, int64_t rows,
                                      Device device) {
  if (Status st = ValidateWidths(model.widths); !st.ok()) return st;
  if (model.params.size() != static_cast<size_t>(MlpParamCount(model.widths))) {
    return Status::Invalid("mlp params: " + std::to_string(model.params.size()) +
                           " values, the widths need " +
                           std::to_string(MlpParamCount(model.widths)));
  }
  if (device == Device::kGpu) return gpu::MlpForward(model, x, rows);
  return MlpForwardCpu(model, x, rows);
}

}  // namespace corral::kernels
