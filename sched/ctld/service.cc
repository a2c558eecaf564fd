#include "sched/ctld/service.h"

#include <grpcpp/grpcpp.h>

#include "common/log.h"
#include "common/time.h"
#include "fabric/channel.h"
#include "fabric/proto/corral.grpc.pb.h"
#include "sched/ctld/exec_stream.h"
#include "sched/ctld/node_link.h"
#include "sched/ctld/step_router.h"
#include "sched/ctld/wait_call.h"

namespace corral::ctld {

namespace {

constexpr int kMaxJobsPerSubmit = 1000000;

// Every method is a plain handler on the sync API but Exec and Wait, which can last long: they
// are served on the callback API, so that no thread waits on a running step or a long poll.
class ControllerService final
    : public v1::Controller::WithCallbackMethod_Wait<
          v1::Controller::WithCallbackMethod_Exec<v1::Controller::Service>> {
 public:
  ControllerService(Controller* c, ExecStreams* e, WaitCalls* w) : ctl_(c), exec_(e), waits_(w) {}

  grpc::Status Submit(grpc::ServerContext*, const v1::SubmitRequest* req,
                      v1::SubmitReply* reply) override {
    if (req->jobs_size() > kMaxJobsPerSubmit) {
      return ToGrpc(Status::Invalid("submit: at most " + std::to_string(kMaxJobsPerSubmit) +
                                    " jobs per request"));
    }
    auto ids = ctl_->Submit(req->jobs());
    if (!ids.ok()) return ToGrpc(ids.status());
    for (int64_t id : *ids) reply->add_ids(id);
    return grpc::Status::OK;
  }
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest* req,
                        v1::ListJobsReply* reply) override {
    *reply = ctl_->ListJobs(*req);
    return grpc::Status::OK;
  }
  grpc::Status Cancel(grpc::ServerContext*, const v1::CancelRequest* req,
                      v1::CancelReply* reply) override {
    if (req->ids_size() == 0) return ToGrpc(Status::Invalid("cancel: no job ids given"));
    *reply = ctl_->Cancel(*req);
    return grpc::Status::OK;
  }
  grpc::Status ListNodes(grpc::ServerContext*, const v1::ListNodesRequest*,
                         v1::ListNodesReply* reply) override {
    *reply = ctl_->ListNodes();
    return grpc::Status::OK;
  }
  grpc::Status Accounting(grpc::ServerContext*, const v1::AcctRequest* req,
                          v1::AcctReply* reply) override {
    auto r = ctl_->Accounting(*req);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::ServerUnaryReactor* Wait(grpc::CallbackServerContext*, const v1::WaitRequest* req,
                                 v1::WaitReply* reply) override {
    return waits_->Start(req, reply);
  }
  grpc::Status Release(grpc::ServerContext*, const v1::ReleaseRequest* req,
                       v1::ReleaseReply* reply) override {
    if (req->ids_size() == 0) return ToGrpc(Status::Invalid("release: no job ids given"));
    *reply = ctl_->Release(*req);
    return grpc::Status::OK;
  }
  grpc::Status Requeue(grpc::ServerContext*, const v1::RequeueRequest* req,
                       v1::RequeueReply* reply) override {
    if (req->ids_size() == 0) return ToGrpc(Status::Invalid("requeue: no job ids given"));
    *reply = ctl_->Requeue(*req);
    return grpc::Status::OK;
  }
  grpc::Status Complete(grpc::ServerContext*, const v1::CompleteRequest* req,
                        v1::CompleteReply*) override {
    return ToGrpc(ctl_->Complete(*req));
  }
  grpc::Status Explain(grpc::ServerContext*, const v1::ExplainRequest* req,
                       v1::ExplainReply* reply) override {
    auto r = ctl_->Explain(req->job_id());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status AdminQos(grpc::ServerContext*, const v1::AdminQosRequest* req,
                        v1::AdminQosReply* reply) override {
    auto r = ctl_->AdminQos(*req);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status AdminPartition(grpc::ServerContext*, const v1::AdminPartitionRequest* req,
                              v1::AdminPartitionReply* reply) override {
    auto r = ctl_->AdminPartition(*req);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status AdminNode(grpc::ServerContext*, const v1::AdminNodeRequest* req,
                         v1::AdminNodeReply* reply) override {
    auto r = ctl_->AdminNode(*req);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status AdminReservation(grpc::ServerContext*, const v1::AdminReservationRequest* req,
                                v1::AdminReservationReply* reply) override {
    auto r = ctl_->AdminReservation(*req);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status AdminAccount(grpc::ServerContext*, const v1::AdminAccountRequest* req,
                            v1::AdminAccountReply* reply) override {
    auto r = ctl_->AdminAccount(*req);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status Share(grpc::ServerContext*, const v1::ShareRequest* req,
                     v1::ShareReply* reply) override {
    auto r = ctl_->Share(*req);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status Ping(grpc::ServerContext*, const v1::PingRequest*, v1::PingReply* r) override {
    r->set_version("corral 0.1");
    r->set_now_ms(WallNowMs());
    return grpc::Status::OK;
  }
  grpc::ServerWriteReactor<v1::ExecEvent>* Exec(grpc::CallbackServerContext*,
                                                const v1::ExecRequest* req) override {
    return exec_->Start(req);
  }

 private:
  Controller* ctl_;
  ExecStreams* exec_;
  WaitCalls* waits_;
};

class ServerImpl : public Server {
 public:
  ServerImpl(Controller* c)
      : router_(),
        exec_(c, &router_),
        waits_(c),
        ctl_svc_(c, &exec_, &waits_),
        link_svc_(c, &router_) {}
  Status Build(const std::string& listen) {
    PrepareGrpc();
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&ctl_svc_);
    b.RegisterService(&link_svc_);
    b.SetMaxReceiveMessageSize(256 << 20);
    b.SetMaxSendMessageSize(256 << 20);
    b.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 20);
    b.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // as the clients (fabric/channel.cc)
    server_ = b.BuildAndStart();
    if (!server_ || port == 0) return Status::Unavailable("--listen " + listen + ": cannot bind");
    std::string host = listen.substr(0, listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
    address_ = host + ":" + std::to_string(port);
    return Status::Ok();
  }
  std::string address() const override { return address_; }
  void Wait() override { server_->Wait(); }
  void Shutdown() override {
    // Node streams never end by themselves: end them now rather than after the grace period
    // that in-flight calls get, so the nodes go on to reconnect at once.
    // Exec calls first: their clients follow their steps again on the next controller, rather
    // than hear that the steps' nodes disconnected.
    exec_.EndAll("corrald is shutting down");
    link_svc_.EndAll("corrald is shutting down");
    waits_.EndAll("corrald is shutting down");
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
  ~ServerImpl() override {
    if (!server_) return;
    Shutdown();  // a second call returns at once
    // Streams end in their own time after the cancel: none may outlive the router.
    link_svc_.WaitForStreams();
    exec_.WaitForStreams();
    waits_.WaitForCalls();
  }

 private:
  StepRouter router_;
  ExecStreams exec_;
  WaitCalls waits_;
  ControllerService ctl_svc_;
  NodeLinkService link_svc_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(Controller* controller, const std::string& listen) {
  auto s = std::make_unique<ServerImpl>(controller);
  if (Status st = s->Build(listen); !st.ok()) return st;
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace corral::ctld
