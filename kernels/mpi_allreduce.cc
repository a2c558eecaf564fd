#include "kernels/mpi_allreduce.h"

#include <climits>
#include <string>
#include <vector>

#ifdef CORRAL_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif
#ifdef CORRAL_HAVE_NCCL
#include "kernels/nccl_comm.h"
#endif

namespace corral::kernels {

namespace {

Status MpiStatus(const char* what, int rc) {
  if (rc == MPI_SUCCESS) return Status::Ok();
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  return Status::Internal(std::string(what) + ": " + std::string(msg, static_cast<size_t>(len)));
}

Status Copy(void* dst, const void* src, int64_t count, bool to_host) {
#ifdef CORRAL_HAVE_CUDA
  cudaError_t e = cudaMemcpy(dst, src, static_cast<size_t>(count) * sizeof(float),
                             to_host ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice);
  if (e == cudaSuccess) return Status::Ok();
  return Status::Internal(std::string("allreduce staging copy: ") + cudaGetErrorString(e));
#else
  (void)dst;
  (void)src;
  (void)count;
  (void)to_host;
  return Status::FailedPrecondition("allreduce: GPU buffer, but built without CUDA");
#endif
}

class MpiAllreduce : public Allreduce {
 public:
  explicit MpiAllreduce(MPI_Comm comm) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiAllreduce() override {
    if (local_ != MPI_COMM_NULL) MPI_Comm_free(&local_);
    if (leaders_ != MPI_COMM_NULL) MPI_Comm_free(&leaders_);
  }

  // Builds the node-local NCCL communicator and the leaders' communicator (collective).
  Status InitHierarchy() {
    int rc = MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local_);
    if (Status st = MpiStatus("MPI_Comm_split_type", rc); !st.ok()) return st;
    MPI_Comm_rank(local_, &local_rank_);
    MPI_Comm_size(local_, &local_size_);
    rc = MPI_Comm_split(comm_, local_rank_ == 0 ? 0 : MPI_UNDEFINED, rank_, &leaders_);
    if (Status st = MpiStatus("MPI_Comm_split", rc); !st.ok()) return st;
    int leader = local_rank_ == 0 ? 1 : 0;
    rc = MPI_Allreduce(&leader, &nodes_, 1, MPI_INT, MPI_SUM, comm_);
    if (Status st = MpiStatus("MPI_Allreduce(nodes)", rc); !st.ok()) return st;
#ifdef CORRAL_HAVE_NCCL
    std::string id;
    if (local_rank_ == 0) {
      auto made = NcclComm::NewUniqueId();
      if (!made.ok()) return made.status();
      id = *made;
    }
    int len = static_cast<int>(id.size());
    MPI_Bcast(&len, 1, MPI_INT, 0, local_);
    id.resize(static_cast<size_t>(len));
    MPI_Bcast(id.data(), len, MPI_CHAR, 0, local_);
    auto comm = NcclComm::Create(id, local_size_, local_rank_);
    if (!comm.ok()) return comm.status();
    nccl_ = std::move(*comm);
#endif
    return Status::Ok();
  }

  Status Sum(float* data, int64_t count, bool on_device) override {
    if (count > INT_MAX) return Status::Invalid("allreduce: more than 2^31 floats");
    if (!on_device) return HostSum(data, count, comm_);
#ifdef CORRAL_HAVE_NCCL
    if (nccl_) return HierarchicalSum(data, count);
#endif
    return StagedSum(data, count, comm_);
  }

  int rank() const override {
    return rank_;
  }
  int size() const override {
    return size_;
  }
  std::string Describe() const override {
#ifdef CORRAL_HAVE_NCCL
    if (nccl_) {
      return "nccl (" + std::to_string(local_size_) + " per node) + mpi (" +
             std::to_string(nodes_) + " nodes)";
    }
#endif
    return "mpi (" + std::to_string(size_) + " ranks)";
  }

 private:
  static Status HostSum(float* data, int64_t count, MPI_Comm comm) {
    return MpiStatus("MPI_Allreduce", MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count),
                                                    MPI_FLOAT, MPI_SUM, comm));
  }

  Status StagedSum(float* data, int64_t count, MPI_Comm comm) {
    host_.resize(static_cast<size_t>(count));
    if (Status st = Copy(host_.data(), data, count, true); !st.ok()) return st;
    if (Status st = HostSum(host_.data(), count, comm); !st.ok()) return st;
    return Copy(data, host_.data(), count, false);
  }

#ifdef CORRAL_HAVE_NCCL
  Status HierarchicalSum(float* data, int64_t count) {
    if (local_size_ > 1) {
      if (Status st = nccl_->AllreduceSum(data, count); !st.ok()) return st;
    }
    if (nodes_ > 1) {
      if (local_rank_ == 0) {
        if (Status st = StagedSum(data, count, leaders_); !st.ok()) return st;
      }
      if (local_size_ > 1) return nccl_->Broadcast(data, count, 0);
    }
    return Status::Ok();
  }
  std::unique_ptr<NcclComm> nccl_;
#endif

  MPI_Comm comm_;
  MPI_Comm local_ = MPI_COMM_NULL;
  MPI_Comm leaders_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  int nodes_ = 1;
  std::vector<float> host_;
};

}  // namespace

Result<std::unique_ptr<Allreduce>> MakeMpiAllreduce(MPI_Comm comm, bool gpu) {
  auto out = std::make_unique<MpiAllreduce>(comm);
  if (gpu) {
    if (Status st = out->InitHierarchy(); !st.ok()) return st;
  }
  return std::unique_ptr<Allreduce>(std::move(out));
}

int LocalRank(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm local;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local);
  int local_rank = 0;
  MPI_Comm_rank(local, &local_rank);
  MPI_Comm_free(&local);
  return local_rank;
}

}  // namespace corral::kernels
