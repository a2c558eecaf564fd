#include "kernels/dense.h"

#include <vector>

namespace corral::kernels {

void DenseCpu(const float* x, int64_t rows, int64_t in, const float* w, const float* b, int64_t out,
              Activation act, float* y, float* pre) {
  std::vector<float> z(static_cast<size_t>(out));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) z[o] = b ? b[o] : 0.0f;
    const float* xr = x + r * in;
    for (int64_t i = 0; i < in; ++i) {
      const float xi = xr[i];
      const float* wi = w + i * out;
      for (int64_t o = 0; o < out; ++o) z[o] += xi * wi[o];
    }
    for (int64_t o = 0; o < out; ++o) {
      if (pre) pre[r * out + o] = z[o];
      y[r * out + o] = Activate(act, z[o]);
    }
  }
}

void GemmF32Cpu(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                float beta, float* c) {
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) row[j] = 0.0f;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float aik = ta ? a[kk * m + i] : a[i * k + kk];
      if (tb) {
        for (int64_t j = 0; j < n; ++j) row[j] += aik * b[j * k + kk];
      } else {
        const float* bk = b + kk * n;
        for (int64_t j = 0; j < n; ++j) row[j] += aik * bk[j];
      }
    }
    float* ci = c + i * n;
    for (int64_t j = 0; j < n; ++j) ci[j] = beta == 0.0f ? row[j] : row[j] + beta * ci[j];
  }
}

void ColumnSumsCpu(const float* x, int64_t rows, int64_t cols, float* out) {
  for (int64_t j = 0; j < cols; ++j) out[j] = 0.0f;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; ++j) out[j] += x[r * cols + j];
  }
}

}  // namespace corral::kernels
