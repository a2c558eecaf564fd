// The GPU entry points of a build without nvcc: each says so, as FailedPrecondition. Compiled
// only when CUDA is absent; with CUDA the .cu files define these symbols instead.
#include <string>

#include "kernels/dense.h"
#include "kernels/gemm_device.h"
#include "kernels/gemm_verify.h"
#include "kernels/mlp.h"
#include "kernels/rollout.h"
#include "kernels/train_step.h"
#include "kernels/triad.h"

namespace corral::kernels {

namespace {
Status NoCuda(const char* what) {
  return Status::FailedPrecondition(std::string(what) + ": " + DescribeGpu());
}
}  // namespace

const char* GemmEngineName(GemmEngine e) {
  switch (e) {
    case GemmEngine::kSm90:
      return "sm90-wgmma-tma";
    case GemmEngine::kWmma:
      return "wmma";
    case GemmEngine::kAuto:
      break;
  }
  return "auto";
}

struct DeviceGemm::Impl {
  GemmSpec spec;
};
DeviceGemm::DeviceGemm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeviceGemm::~DeviceGemm() = default;
Result<std::unique_ptr<DeviceGemm>> DeviceGemm::Create(const GemmSpec&) {
  return NoCuda("verification GEMM");
}
const GemmSpec& DeviceGemm::spec() const {
  return impl_->spec;
}
const void* DeviceGemm::a() const {
  return nullptr;
}
const void* DeviceGemm::bt() const {
  return nullptr;
}
float* DeviceGemm::c() {
  return nullptr;
}
Result<GemmEngine> DeviceGemm::Resolve(GemmEngine) const {
  return NoCuda("verification GEMM");
}
Result<double> DeviceGemm::Time(GemmEngine, int) {
  return NoCuda("verification GEMM");
}
Result<GemmReport> DeviceGemm::Report() const {
  return NoCuda("verification GEMM");
}
Result<std::vector<float>> DeviceGemm::ReadC() const {
  return NoCuda("verification GEMM");
}

namespace gpu {

Result<GemmReport> RunVerificationGemm(const GemmSpec&, GemmEngine, std::vector<float>*) {
  return NoCuda("verification GEMM");
}
Result<TriadReport> RunTriad(const TriadSpec&) {
  return NoCuda("triad");
}
Status TriadOnDevice(float*, const float*, const float*, float, int64_t) {
  return NoCuda("triad");
}
Status Dense(const float*, int64_t, int64_t, const float*, const float*, int64_t, Activation,
             float*, float*) {
  return NoCuda("dense layer");
}
Status GemmF32(bool, bool, int64_t, int64_t, int64_t, const float*, const float*, float, float*) {
  return NoCuda("FP32 GEMM");
}
Status ColumnSums(const float*, int64_t, int64_t, float*) {
  return NoCuda("column sums");
}
Status DenseOnDevice(const float*, int64_t, int64_t, const float*, const float*, int64_t,
                     Activation, float*, float*) {
  return NoCuda("dense layer");
}
Status GemmF32OnDevice(bool, bool, int64_t, int64_t, int64_t, const float*, const float*, float,
                       float*) {
  return NoCuda("FP32 GEMM");
}
Result<std::vector<float>> MlpForward(const Mlp&, const float*, int64_t) {
  return NoCuda("MLP forward");
}
Result<std::unique_ptr<TrainStep>> CreateTrainStep(const Mlp&, int64_t) {
  return NoCuda("training step");
}
Result<Rollout> CollectRollouts(const RolloutSpec&, const std::vector<float>&, int) {
  return NoCuda("CartPole rollouts");
}

}  // namespace gpu

}  // namespace corral::kernels
