// Internal to kernels/*.cu: CUDA calls as Status, an owning device buffer and an event timer.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <utility>

#include "common/status.h"
#include "kernels/device.h"

namespace corral::kernels {

inline Status CudaStatus(const char* what, cudaError_t e) {
  if (e == cudaSuccess) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + cudaGetErrorName(e) + " (" +
                          cudaGetErrorString(e) + ")");
}

// Returns the failing call as an Internal Status from the enclosing function.
#define CORRAL_CUDA_TRY(expr)                                                        \
  do {                                                                               \
    cudaError_t corral_cuda_err_ = (expr);                                           \
    if (corral_cuda_err_ != cudaSuccess) return CudaStatus(#expr, corral_cuda_err_); \
  } while (0)

#define CORRAL_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::corral::Status corral_st_ = (expr);    \
    if (!corral_st_.ok()) return corral_st_; \
  } while (0)

// An owning pointer to `count` elements of device memory.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(o.n_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      Reset();
      p_ = std::exchange(o.p_, nullptr);
      n_ = o.n_;
    }
    return *this;
  }
  ~DeviceBuffer() { Reset(); }

  Status Allocate(size_t count) {
    Reset();
    if (count == 0) return Status::Ok();
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, count * sizeof(T));
    if (e != cudaSuccess) {
      return Status::Unavailable("cudaMalloc of " + std::to_string(count * sizeof(T)) +
                                 " bytes: " + cudaGetErrorString(e));
    }
    p_ = static_cast<T*>(p);
    n_ = count;
    return Status::Ok();
  }
  Status CopyFromHost(const T* src, size_t count) {
    if (count == 0) return Status::Ok();
    return CudaStatus("cudaMemcpy H2D",
                      cudaMemcpy(p_, src, count * sizeof(T), cudaMemcpyHostToDevice));
  }
  Status CopyToHost(T* dst, size_t count) const {
    if (count == 0) return Status::Ok();
    return CudaStatus("cudaMemcpy D2H",
                      cudaMemcpy(dst, p_, count * sizeof(T), cudaMemcpyDeviceToHost));
  }
  void Reset() {
    if (p_) cudaFree(p_);
    p_ = nullptr;
    n_ = 0;
  }
  T* get() const { return p_; }
  size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// Times work enqueued on the default stream between Start() and Stop() with CUDA events.
class EventTimer {
 public:
  EventTimer() {
    if (cudaEventCreate(&start_) != cudaSuccess) start_ = nullptr;
    if (cudaEventCreate(&stop_) != cudaSuccess) stop_ = nullptr;
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  ~EventTimer() {
    if (start_) cudaEventDestroy(start_);
    if (stop_) cudaEventDestroy(stop_);
  }
  Status Start() {
    if (!start_ || !stop_) return Status::Internal("cudaEventCreate failed");
    return CudaStatus("cudaEventRecord", cudaEventRecord(start_));
  }
  // Waits for the stop event; seconds since Start().
  Result<double> Stop() {
    CORRAL_CUDA_TRY(cudaEventRecord(stop_));
    CORRAL_CUDA_TRY(cudaEventSynchronize(stop_));
    float ms = 0;
    CORRAL_CUDA_TRY(cudaEventElapsedTime(&ms, start_, stop_));
    return static_cast<double>(ms) / 1e3;
  }

 private:
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

// FailedPrecondition saying why there is no GPU, or Ok.
inline Status RequireGpu() {
  if (!GpuPresent()) return Status::FailedPrecondition(DescribeGpu());
  return Status::Ok();
}

inline unsigned BlocksFor(int64_t items, int threads) {
  return static_cast<unsigned>((items + threads - 1) / threads);
}

}  // namespace corral::kernels
