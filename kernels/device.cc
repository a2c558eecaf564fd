#include "kernels/device.h"

#include <string>

#ifdef CORRAL_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace corral::kernels {

const char* DeviceName(Device d) {
  return d == Device::kGpu ? "gpu" : "cpu";
}

bool BuiltWithCuda() {
#ifdef CORRAL_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

namespace {

struct Probe {
  int count = 0;
  std::string why;  // set when count == 0
};

const Probe& GetProbe() {
  static const Probe probe = [] {
    Probe p;
#ifdef CORRAL_HAVE_CUDA
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      p.why = std::string("no GPU: cudaGetDeviceCount failed with error ") +
              std::to_string(static_cast<int>(e)) + " (" + cudaGetErrorString(e) + ")";
      cudaGetLastError();  // clear the sticky error so later calls start clean
    } else if (n <= 0) {
      p.why = "no GPU: the CUDA runtime reports 0 devices";
    } else {
      p.count = n;
    }
#else
    p.why = "no GPU support: corral_kernels was built without nvcc (CPU twins only)";
#endif
    return p;
  }();
  return probe;
}

}  // namespace

bool GpuPresent() {
  return GetProbe().count > 0;
}

int GpuCount() {
  return GetProbe().count;
}

std::string DescribeGpu() {
  const Probe& p = GetProbe();
  if (p.count == 0) return p.why;
#ifdef CORRAL_HAVE_CUDA
  int dev = 0;
  cudaDeviceProp prop{};
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
    return "GPU present, but its properties could not be read";
  }
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
         std::to_string(prop.minor) + ", " + std::to_string(prop.multiProcessorCount) + " SMs)";
#else
  return p.why;
#endif
}

Result<Device> ResolveDevice(std::string_view choice) {
  if (choice == "cpu") return Device::kCpu;
  if (choice == "auto") return GpuPresent() ? Device::kGpu : Device::kCpu;
  if (choice == "gpu") {
    if (GpuPresent()) return Device::kGpu;
    return Status::FailedPrecondition("--device gpu: " + GetProbe().why);
  }
  return Status::Invalid("--device: '" + std::string(choice) + "' is not one of cpu, gpu, auto");
}

Status SelectGpu(int ordinal) {
  const Probe& p = GetProbe();
  if (p.count == 0) return Status::FailedPrecondition(p.why);
  if (ordinal < 0 || ordinal >= p.count) {
    return Status::Invalid("GPU " + std::to_string(ordinal) + " does not exist; " +
                           std::to_string(p.count) + " visible");
  }
#ifdef CORRAL_HAVE_CUDA
  cudaError_t e = cudaSetDevice(ordinal);
  if (e != cudaSuccess) {
    return Status::Internal(std::string("cudaSetDevice: ") + cudaGetErrorString(e));
  }
#endif
  return Status::Ok();
}

}  // namespace corral::kernels
