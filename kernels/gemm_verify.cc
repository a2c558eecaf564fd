#include "kernels/gemm_verify.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace corral::kernels {

namespace {

constexpr int64_t kMaxMn = 65536;
constexpr int64_t kMaxK = 32768;
constexpr int kMaxSamples = 4096;

std::string EntryName(int64_t row, int64_t col) {
  return "C[" + std::to_string(row) + "][" + std::to_string(col) + "]";
}

std::string FloatText(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

}  // namespace

GemmPrecision ParseGemmPrecision(std::string_view name) {
  return name == "fp16" ? GemmPrecision::kFp16 : GemmPrecision::kBf16;
}

Status ValidateGemmSpec(const GemmSpec& s) {
  if (s.m < 1 || s.m > kMaxMn) return Status::Invalid("gemm m: must be in [1, 65536]");
  if (s.n < 1 || s.n > kMaxMn) return Status::Invalid("gemm n: must be in [1, 65536]");
  if (s.k < 1 || s.k > kMaxK) {
    return Status::Invalid(
        "gemm k: must be in [1, 32768], beyond which FP32 sums stop being exact");
  }
  if (s.samples < 0 || s.samples > kMaxSamples) {
    return Status::Invalid("gemm samples: must be in [0, 4096]");
  }
  if (!(s.seconds >= 0 && s.seconds <= 3600)) {
    return Status::Invalid("gemm seconds: must be in [0, 3600]");
  }
  return Status::Ok();
}

std::vector<std::pair<int64_t, int64_t>> SamplePositions(const GemmSpec& s) {
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(static_cast<size_t>(s.samples));
  for (int i = 0; i < s.samples; ++i) {
    uint64_t h = Hash(s.challenge, 0x5a4d504c45ULL, static_cast<uint64_t>(i));
    out.emplace_back(static_cast<int64_t>((h & 0xffffffffULL) % static_cast<uint64_t>(s.m)),
                     static_cast<int64_t>((h >> 32) % static_cast<uint64_t>(s.n)));
  }
  return out;
}

float ReferenceEntry(const GemmSpec& s, int64_t row, int64_t col) {
  float acc = 0;
  for (int64_t kk = 0; kk < s.k; ++kk) {
    acc += GemmInputA(s.seed, row, kk) * GemmInputB(s.seed, kk, col);
  }
  return acc;
}

std::vector<float> GemmCpu(const GemmSpec& s) {
  std::vector<float> a(static_cast<size_t>(s.m * s.k));
  std::vector<float> b(static_cast<size_t>(s.k * s.n));
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t kk = 0; kk < s.k; ++kk) a[i * s.k + kk] = GemmInputA(s.seed, i, kk);
  }
  for (int64_t kk = 0; kk < s.k; ++kk) {
    for (int64_t j = 0; j < s.n; ++j) b[kk * s.n + j] = GemmInputB(s.seed, kk, j);
  }
  std::vector<float> c(static_cast<size_t>(s.m * s.n), 0.0f);
  for (int64_t i = 0; i < s.m; ++i) {
    float* crow = &c[i * s.n];
    for (int64_t kk = 0; kk < s.k; ++kk) {
      const float aik = a[i * s.k + kk];
      const float* brow = &b[kk * s.n];
      for (int64_t j = 0; j < s.n; ++j) crow[j] += aik * brow[j];
    }
  }
  return c;
}

uint64_t DigestOf(const float* c, int64_t m, int64_t n) {
  uint64_t sum = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) sum += DigestTerm(i, j, c[i * n + j]);
  }
  return sum;
}

Status VerifyGemmSamples(const GemmSpec& spec, const GemmReport& report) {
  if (Status st = ValidateGemmSpec(spec); !st.ok()) return st;
  if (report.samples.size() != static_cast<size_t>(spec.samples)) {
    return Status::Invalid("gemm report: " + std::to_string(report.samples.size()) +
                           " sampled entries, the challenge asked for " +
                           std::to_string(spec.samples));
  }
  const auto positions = SamplePositions(spec);
  for (size_t i = 0; i < positions.size(); ++i) {
    const SampledEntry& e = report.samples[i];
    if (e.row != positions[i].first || e.col != positions[i].second) {
      return Status::Invalid("gemm report: sample " + std::to_string(i) + " is " +
                             EntryName(e.row, e.col) + ", the challenge asked for " +
                             EntryName(positions[i].first, positions[i].second));
    }
    const float want = ReferenceEntry(spec, e.row, e.col);
    // Exact comparison: C is exact on any correct device (see the header).
    if (!(e.value == want)) {
      return Status::Invalid("gemm report: " + EntryName(e.row, e.col) + " = " +
                             FloatText(e.value) + ", expected " + FloatText(want) +
                             " (wrong result: faulty GPU or tampered report)");
    }
  }
  return Status::Ok();
}

}  // namespace corral::kernels
