#include "kernels/nccl_comm.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <string>

namespace corral::kernels {

namespace {

Status NcclStatus(const char* what, ncclResult_t r) {
  if (r == ncclSuccess) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + ncclGetErrorString(r));
}

Status Wait(const char* what) {
  cudaError_t e = cudaStreamSynchronize(nullptr);
  if (e == cudaSuccess) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + cudaGetErrorString(e));
}

}  // namespace

Result<std::string> NcclComm::NewUniqueId() {
  ncclUniqueId id;
  if (Status st = NcclStatus("ncclGetUniqueId", ncclGetUniqueId(&id)); !st.ok()) return st;
  return std::string(id.internal, sizeof id.internal);
}

Result<std::unique_ptr<NcclComm>> NcclComm::Create(const std::string& id, int nranks, int rank) {
  ncclUniqueId uid;
  if (id.size() != sizeof uid.internal) {
    return Status::Invalid("nccl: unique id of " + std::to_string(id.size()) + " bytes, want " +
                           std::to_string(sizeof uid.internal));
  }
  id.copy(uid.internal, sizeof uid.internal);
  ncclComm_t comm = nullptr;
  if (Status st = NcclStatus("ncclCommInitRank", ncclCommInitRank(&comm, nranks, uid, rank));
      !st.ok()) {
    return st;
  }
  std::unique_ptr<NcclComm> out(new NcclComm());
  out->comm_ = comm;
  out->rank_ = rank;
  out->size_ = nranks;
  return out;
}

NcclComm::~NcclComm() {
  if (comm_) ncclCommDestroy(static_cast<ncclComm_t>(comm_));
}

Status NcclComm::AllreduceSum(float* data, int64_t count) {
  Status st =
      NcclStatus("ncclAllReduce", ncclAllReduce(data, data, static_cast<size_t>(count), ncclFloat,
                                                ncclSum, static_cast<ncclComm_t>(comm_), nullptr));
  return st.ok() ? Wait("ncclAllReduce") : st;
}

Status NcclComm::Broadcast(float* data, int64_t count, int root) {
  Status st =
      NcclStatus("ncclBroadcast", ncclBroadcast(data, data, static_cast<size_t>(count), ncclFloat,
                                                root, static_cast<ncclComm_t>(comm_), nullptr));
  return st.ok() ? Wait("ncclBroadcast") : st;
}

}  // namespace corral::kernels
