// Which device a kernel runs on, and whether this process has a GPU at all.
//
// Every kernel in kernels/ has a CPU twin with the same contract. Programs take
// --device cpu|gpu|auto and resolve it here; "auto" means the GPU when one is present.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace corral::kernels {

enum class Device { kCpu, kGpu };

// "cpu" or "gpu".
const char* DeviceName(Device d);

// True when this library was compiled with nvcc (CORRAL_HAVE_CUDA).
bool BuiltWithCuda();

// True when built with CUDA and the runtime reports at least one device. Any CUDA error counts
// as "no GPU": without a driver cudaGetDeviceCount fails with error 35, not 100. The answer is
// computed once per process.
bool GpuPresent();

// Why there is no GPU, or which one is current: "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)".
std::string DescribeGpu();

// Parses "cpu", "gpu" or "auto". "gpu" without a usable GPU is FailedPrecondition saying why; an
// unknown word is Invalid.
Result<Device> ResolveDevice(std::string_view choice);

// Makes GPU `ordinal` current for this thread (ranks on a multi-GPU node pick
// local_rank % GpuCount()). FailedPrecondition without a GPU.
Status SelectGpu(int ordinal);

// Number of visible GPUs; 0 when GpuPresent() is false.
int GpuCount();

}  // namespace corral::kernels
