#include "kernels/triad.h"

#include <chrono>
#include <cstring>
#include <vector>

namespace corral::kernels {

Status ValidateTriadSpec(const TriadSpec& s) {
  if (s.elements < 1 || s.elements > (int64_t{1} << 31)) {
    return Status::Invalid("triad elements: must be in [1, 2^31]");
  }
  if (!(s.seconds >= 0 && s.seconds <= 3600)) {
    return Status::Invalid("triad seconds: must be in [0, 3600]");
  }
  return Status::Ok();
}

void TriadCpu(float* a, const float* b, const float* c, float scalar, int64_t n) {
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] + scalar * c[i];
}

namespace {

using Clock = std::chrono::steady_clock;

// Repeats `pass` until `seconds` have gone by (at least once); returns {repeats, elapsed}.
template <typename F>
std::pair<int64_t, double> Repeat(double seconds, F&& pass) {
  const auto start = Clock::now();
  int64_t repeats = 0;
  double elapsed = 0;
  do {
    pass();
    ++repeats;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return {repeats, elapsed};
}

Result<TriadReport> RunCpu(const TriadSpec& s) {
  const auto n = static_cast<size_t>(s.elements);
  std::vector<float> a(n, 0.0f), b(n), c(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = static_cast<float>(i % 1000) * 0.5f;
    c[i] = static_cast<float>(i % 7) - 3.0f;
  }
  TriadReport r;
  r.engine = "cpu";
  const double bytes = static_cast<double>(s.elements) * sizeof(float);
  auto [triads, t_triad] =
      Repeat(s.seconds, [&] { TriadCpu(a.data(), b.data(), c.data(), s.scalar, s.elements); });
  r.triad_repeats = triads;
  r.triad_gbps = t_triad > 0 ? 3 * bytes * static_cast<double>(triads) / t_triad / 1e9 : 0;
  r.verified = true;
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i] + s.scalar * c[i]) r.verified = false;
  }
  std::vector<float> copy(n);
  auto [copies, t_copy] =
      Repeat(s.seconds, [&] { std::memcpy(copy.data(), b.data(), n * sizeof(float)); });
  r.copy_repeats = copies;
  r.copy_gbps = t_copy > 0 ? 2 * bytes * static_cast<double>(copies) / t_copy / 1e9 : 0;
  return r;
}

}  // namespace

Result<TriadReport> RunTriad(const TriadSpec& spec, Device device) {
  if (Status st = ValidateTriadSpec(spec); !st.ok()) return st;
  if (device == Device::kGpu) return gpu::RunTriad(spec);
  return RunCpu(spec);
}

}  // namespace corral::kernels
