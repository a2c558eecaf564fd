// Batched CartPole on the GPU: one thread per environment, the policy in shared memory.
#include <vector>

#include "kernels/cuda_call.h"
#include "kernels/episode.h"
#include "kernels/policy.h"
#include "kernels/rollout.h"

namespace corral::kernels {

namespace {

constexpr int kThreads = 128;

__global__ void RolloutKernel(RolloutSpec spec, const float* __restrict__ policy, int hidden,
                              int64_t policy_size, float* __restrict__ obs,
                              uint8_t* __restrict__ actions, int32_t* __restrict__ lengths) {
  extern __shared__ float shared_policy[];
  for (int64_t i = threadIdx.x; i < policy_size; i += blockDim.x) shared_policy[i] = policy[i];
  __syncthreads();
  const int e = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (e >= spec.envs) return;
  lengths[e] = RunEpisode(spec, shared_policy, hidden, e,
                          obs + static_cast<int64_t>(e) * spec.max_steps * kPolicyObs,
                          actions + static_cast<int64_t>(e) * spec.max_steps);
}

}  // namespace

namespace gpu {

Result<Rollout> CollectRollouts(const RolloutSpec& spec, const std::vector<float>& policy,
                                int hidden) {
  CORRAL_RETURN_IF_ERROR(RequireGpu());
  CORRAL_RETURN_IF_ERROR(ValidateRollout(spec, policy, hidden));
  Rollout r;
  r.envs = spec.envs;
  r.max_steps = spec.max_steps;
  r.obs.assign(static_cast<size_t>(spec.envs) * spec.max_steps * kPolicyObs, 0.0f);
  r.actions.assign(static_cast<size_t>(spec.envs) * spec.max_steps, 0);
  r.lengths.assign(static_cast<size_t>(spec.envs), 0);
  DeviceBuffer<float> dpolicy, dobs;
  DeviceBuffer<uint8_t> dactions;
  DeviceBuffer<int32_t> dlengths;
  CORRAL_RETURN_IF_ERROR(dpolicy.Allocate(policy.size()));
  CORRAL_RETURN_IF_ERROR(dpolicy.CopyFromHost(policy.data(), policy.size()));
  CORRAL_RETURN_IF_ERROR(dobs.Allocate(r.obs.size()));
  CORRAL_RETURN_IF_ERROR(dactions.Allocate(r.actions.size()));
  CORRAL_RETURN_IF_ERROR(dlengths.Allocate(r.lengths.size()));
  CORRAL_CUDA_TRY(cudaMemset(dobs.get(), 0, dobs.size() * sizeof(float)));
  CORRAL_CUDA_TRY(cudaMemset(dactions.get(), 0, dactions.size()));
  const size_t smem = policy.size() * sizeof(float);
  RolloutKernel<<<BlocksFor(spec.envs, kThreads), kThreads, smem>>>(
      spec, dpolicy.get(), hidden, static_cast<int64_t>(policy.size()), dobs.get(), dactions.get(),
      dlengths.get());
  CORRAL_CUDA_TRY(cudaGetLastError());
  CORRAL_RETURN_IF_ERROR(dobs.CopyToHost(r.obs.data(), r.obs.size()));
  CORRAL_RETURN_IF_ERROR(dactions.CopyToHost(r.actions.data(), r.actions.size()));
  CORRAL_RETURN_IF_ERROR(dlengths.CopyToHost(r.lengths.data(), r.lengths.size()));
  return r;
}

}  // namespace gpu

}  // namespace corral::kernels
