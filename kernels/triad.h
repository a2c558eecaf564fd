// Memory bandwidth: the STREAM triad a[i] = b[i] + scalar·c[i], with a device-to-device copy of
// the same arrays measured in the same run as its anchor.
//
// Bytes are counted as STREAM counts them: a triad moves 3 × elements × 4 bytes (reads b and c,
// writes a), a copy 2 × elements × 4.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "kernels/device.h"

namespace corral::kernels {

struct TriadSpec {
  int64_t elements = int64_t{1} << 24;  // per array
  float scalar = 3.0f;
  double seconds = 0;  // time each of triad and copy for at least this long (0: one pass each)
};

struct TriadReport {
  double triad_gbps = 0;
  double copy_gbps = 0;
  int64_t triad_repeats = 0;
  int64_t copy_repeats = 0;
  bool verified = false;  // every element of a matched b + scalar·c afterwards
  std::string engine;     // "cpu" or "cuda"
};

// 1 ≤ elements ≤ 2^31 and 0 ≤ seconds ≤ 3600; Invalid names the field otherwise.
Status ValidateTriadSpec(const TriadSpec& spec);

// Allocates three arrays on `device`, fills them, and times triad and copy. Errors: Invalid
// spec; FailedPrecondition for the GPU without one; Unavailable when memory runs out.
Result<TriadReport> RunTriad(const TriadSpec& spec, Device device);

// The CPU twin of the kernel.
void TriadCpu(float* a, const float* b, const float* c, float scalar, int64_t n);

namespace gpu {

Result<TriadReport> RunTriad(const TriadSpec& spec);

// a = b + scalar·c for host arrays, computed by the GPU kernel: lets tests hold the kernel
// against TriadCpu on any length, aligned or not.
Status TriadOnDevice(float* a, const float* b, const float* c, float scalar, int64_t n);

}  // namespace gpu

}  // namespace corral::kernels
