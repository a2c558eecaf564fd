#include "sched/ctld/service.h"

#include <grpcpp/grpcpp.h>

#include "common/log.h"
#include "common/time.h"
#include "fabric/channel.h"
#include "fabric/proto/corral.grpc.pb.h"
#include "sched/ctld/authenticate.h"
#include "sched/ctld/exec_stream.h"
#include "sched/ctld/local_socket.h"
#include "sched/ctld/node_link.h"
#include "sched/ctld/step_router.h"
#include "sched/ctld/tunnel_stream.h"
#include "sched/ctld/wait_call.h"

namespace corral::ctld {

namespace {

constexpr int kMaxJobsPerSubmit = 10000;
constexpr int kMaxIdsPerRequest = 100000;
constexpr int kMaxMessageBytes = 64 << 20;

// A streaming call (Exec, Tunnel) refused before it starts.
template <typename Reactor>
class Refused final : public Reactor {
 public:
  explicit Refused(const Status& s) { this->Finish(ToGrpc(s)); }
  void OnDone() override { delete this; }
};

// Every method is a plain handler on the sync API but Exec, Tunnel and Wait, which can last long:
// they
// are served on the callback API, so that no thread waits on a running step or a long poll.
// Each first learns who calls (authenticate.h), then what they may do: a user acts on their own
// jobs only, an operator also on others' jobs and on nodes, an admin on everything; a node's
// certificate may read and drain or resume its own node (corral-node status and remove).
class ControllerService final
    : public v1::Controller::WithCallbackMethod_Tunnel<v1::Controller::WithCallbackMethod_Wait<
          v1::Controller::WithCallbackMethod_Exec<v1::Controller::Service>>> {
 public:
  ControllerService(Controller* c, ExecStreams* e, TunnelStreams* t, WaitCalls* w,
                    const Authenticator* a)
      : ctl_(c), exec_(e), tunnels_(t), waits_(w), auth_(a) {}

  grpc::Status Submit(grpc::ServerContext* ctx, const v1::SubmitRequest* req,
                      v1::SubmitReply* reply) override {
    auto who = Person(ctx, "submit");
    if (!who.ok()) return ToGrpc(who.status());
    if (req->jobs_size() > kMaxJobsPerSubmit) {
      return ToGrpc(Status::Invalid("submit: at most " + std::to_string(kMaxJobsPerSubmit) +
                                    " jobs per request"));
    }
    // The jobs are the caller's; only an admin submits for someone else (as root may with
    // sbatch --uid).
    v1::SubmitRequest mine = *req;
    for (v1::JobSpec& j : *mine.mutable_jobs()) {
      if (!who->admin() || j.user().empty()) j.set_user(who->user);
    }
    auto ids = ctl_->Submit(mine.jobs());
    if (!ids.ok()) return ToGrpc(ids.status());
    for (int64_t id : *ids) reply->add_ids(id);
    return grpc::Status::OK;
  }
  grpc::Status ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                        v1::ListJobsReply* reply) override {
    auto who = auth_->Identify(ctx);
    if (!who.ok()) return ToGrpc(who.status());
    if (req->ids_size() > kMaxIdsPerRequest) return ToGrpc(TooMany("queue"));
    if (OwnOnly(*who)) {
      v1::ListJobsRequest mine = *req;
      mine.set_user(who->user);
      *reply = ctl_->ListJobs(mine);
    } else {
      *reply = ctl_->ListJobs(*req);
    }
    return grpc::Status::OK;
  }
  grpc::Status Cancel(grpc::ServerContext* ctx, const v1::CancelRequest* req,
                      v1::CancelReply* reply) override {
    auto who = Person(ctx, "cancel");
    if (!who.ok()) return ToGrpc(who.status());
    if (req->ids_size() == 0) return ToGrpc(Status::Invalid("cancel: no job ids given"));
    if (req->ids_size() > kMaxIdsPerRequest) return ToGrpc(TooMany("cancel"));
    *reply = ctl_->Cancel(Scoped(*req, *who));
    return grpc::Status::OK;
  }
  grpc::Status ListNodes(grpc::ServerContext* ctx, const v1::ListNodesRequest*,
                         v1::ListNodesReply* reply) override {
    auto who = auth_->Identify(ctx);
    if (!who.ok()) return ToGrpc(who.status());
    *reply = ctl_->ListNodes();
    return grpc::Status::OK;
  }
  grpc::Status Accounting(grpc::ServerContext* ctx, const v1::AcctRequest* req,
                          v1::AcctReply* reply) override {
    auto who = Person(ctx, "acct");
    if (!who.ok()) return ToGrpc(who.status());
    v1::AcctRequest mine = *req;
    if (OwnOnly(*who)) mine.set_user(who->user);
    auto r = ctl_->Accounting(mine);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::ServerUnaryReactor* Wait(grpc::CallbackServerContext* ctx, const v1::WaitRequest* req,
                                 v1::WaitReply* reply) override {
    auto who = auth_->Identify(ctx);
    if (!who.ok() || req->ids_size() > kMaxIdsPerRequest) {
      auto* r = ctx->DefaultReactor();
      r->Finish(ToGrpc(who.ok() ? TooMany("wait") : who.status()));
      return r;
    }
    return waits_->Start(req, reply);
  }
  grpc::Status Release(grpc::ServerContext* ctx, const v1::ReleaseRequest* req,
                       v1::ReleaseReply* reply) override {
    auto who = Person(ctx, "release");
    if (!who.ok()) return ToGrpc(who.status());
    if (req->ids_size() == 0) return ToGrpc(Status::Invalid("release: no job ids given"));
    if (req->ids_size() > kMaxIdsPerRequest) return ToGrpc(TooMany("release"));
    *reply = ctl_->Release(Scoped(*req, *who));
    return grpc::Status::OK;
  }
  grpc::Status Requeue(grpc::ServerContext* ctx, const v1::RequeueRequest* req,
                       v1::RequeueReply* reply) override {
    auto who = Person(ctx, "requeue");
    if (!who.ok()) return ToGrpc(who.status());
    if (req->ids_size() == 0) return ToGrpc(Status::Invalid("requeue: no job ids given"));
    if (req->ids_size() > kMaxIdsPerRequest) return ToGrpc(TooMany("requeue"));
    *reply = ctl_->Requeue(Scoped(*req, *who));
    return grpc::Status::OK;
  }
  grpc::Status Complete(grpc::ServerContext* ctx, const v1::CompleteRequest* req,
                        v1::CompleteReply*) override {
    auto who = Person(ctx, "complete");
    if (!who.ok()) return ToGrpc(who.status());
    return ToGrpc(ctl_->Complete(Scoped(*req, *who)));
  }
  grpc::Status Explain(grpc::ServerContext* ctx, const v1::ExplainRequest* req,
                       v1::ExplainReply* reply) override {
    auto who = auth_->Identify(ctx);
    if (!who.ok()) return ToGrpc(who.status());
    auto r = ctl_->Explain(req->job_id());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status AdminQos(grpc::ServerContext* ctx, const v1::AdminQosRequest* req,
                        v1::AdminQosReply* reply) override {
    return Admin(
        ctx, "qos " + req->op(), req->op() == "list",
        [&](const Caller&) { return ctl_->AdminQos(*req); }, reply);
  }
  grpc::Status AdminPartition(grpc::ServerContext* ctx, const v1::AdminPartitionRequest* req,
                              v1::AdminPartitionReply* reply) override {
    return Admin(
        ctx, "partition " + req->op(), req->op() == "list",
        [&](const Caller&) { return ctl_->AdminPartition(*req); }, reply);
  }
  grpc::Status AdminNode(grpc::ServerContext* ctx, const v1::AdminNodeRequest* req,
                         v1::AdminNodeReply* reply) override {
    auto who = auth_->Identify(ctx);
    if (!who.ok()) return ToGrpc(who.status());
    v1::AdminNodeRequest r = *req;
    r.set_user(who->user);
    if (req->op() != "list") {
      // A provider's own node: corral-node remove drains it, corral-node resume... resumes it.
      bool own = who->role == Role::kNode && req->op() != "forget" && req->nodes_size() == 1 &&
                 req->nodes(0) == who->user;
      if (!own) {
        Status s = req->op() == "forget" ? RequireAdmin(*who, "node forget")
                                         : RequireOperator(*who, "node " + req->op());
        if (!s.ok()) return ToGrpc(s);
      }
    }
    auto out = ctl_->AdminNode(r);
    if (!out.ok()) return ToGrpc(out.status());
    *reply = std::move(*out);
    return grpc::Status::OK;
  }
  grpc::Status AdminReservation(grpc::ServerContext* ctx, const v1::AdminReservationRequest* req,
                                v1::AdminReservationReply* reply) override {
    return Admin(
        ctx, "reservation " + req->op(), req->op() == "list",
        [&](const Caller&) { return ctl_->AdminReservation(*req); }, reply);
  }
  grpc::Status AdminAccount(grpc::ServerContext* ctx, const v1::AdminAccountRequest* req,
                            v1::AdminAccountReply* reply) override {
    return Admin(
        ctx, std::string(req->is_user() ? "user " : "account ") + req->op(), req->op() == "list",
        [&](const Caller&) { return ctl_->AdminAccount(*req); }, reply);
  }
  grpc::Status AdminToken(grpc::ServerContext* ctx, const v1::AdminTokenRequest* req,
                          v1::AdminTokenReply* reply) override {
    return Admin(
        ctx, "token " + req->op(), false,
        [&](const Caller& who) { return ctl_->AdminToken(*req, who.user); }, reply);
  }
  grpc::Status Share(grpc::ServerContext* ctx, const v1::ShareRequest* req,
                     v1::ShareReply* reply) override {
    auto who = Person(ctx, "share");
    if (!who.ok()) return ToGrpc(who.status());
    v1::ShareRequest mine = *req;
    if (!who->admin() || mine.user().empty()) mine.set_user(who->user);
    auto r = ctl_->Share(mine);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status Ping(grpc::ServerContext*, const v1::PingRequest*, v1::PingReply* r) override {
    r->set_version("corral 0.1");
    r->set_now_ms(WallNowMs());
    return grpc::Status::OK;
  }
  grpc::ServerWriteReactor<v1::ExecEvent>* Exec(grpc::CallbackServerContext* ctx,
                                                const v1::ExecRequest* req) override {
    auto who = Person(ctx, "exec");
    if (!who.ok()) return new Refused<grpc::ServerWriteReactor<v1::ExecEvent>>(who.status());
    // Into one's own jobs only; an admin into any.
    return exec_->Start(req, who->admin() ? std::string() : who->user);
  }
  grpc::ServerBidiReactor<v1::TunnelFrame, v1::TunnelFrame>* Tunnel(
      grpc::CallbackServerContext* ctx) override {
    auto who = Person(ctx, "tunnel");
    if (!who.ok())
      return new Refused<grpc::ServerBidiReactor<v1::TunnelFrame, v1::TunnelFrame>>(who.status());
    // Into one's own jobs only, as Exec; an admin into any.
    return tunnels_->Start(who->admin() ? std::string() : who->user);
  }

 private:
  // A person (user, operator, admin, or a job's token): a node's certificate is refused.
  Result<Caller> Person(grpc::ServerContextBase* ctx, const std::string& what) const {
    auto who = auth_->Identify(ctx);
    if (who.ok() && who->role == Role::kNode) {
      return Status::PermissionDenied(what + ": a node's certificate may not (use a token)");
    }
    return who;
  }
  static bool OwnOnly(const Caller& c) { return !c.operator_or_admin(); }
  static Status TooMany(const std::string& what) {
    return Status::Invalid(what + ": at most " + std::to_string(kMaxIdsPerRequest) +
                           " ids per request");
  }
  // The request limited to the caller's jobs, unless an operator or admin asks.
  template <typename Req>
  static Req Scoped(const Req& req, const Caller& who) {
    Req r = req;
    if (OwnOnly(who)) r.set_user(who.user);
    return r;
  }
  // An admin command: anyone may list (`read_only`), only an admin may change.
  template <typename Fn, typename Rep>
  grpc::Status Admin(grpc::ServerContextBase* ctx, const std::string& what, bool read_only, Fn fn,
                     Rep* reply) {
    auto who = auth_->Identify(ctx);
    if (!who.ok()) return ToGrpc(who.status());
    if (!read_only) {
      if (Status s = RequireAdmin(*who, what); !s.ok()) return ToGrpc(s);
    }
    auto r = fn(*who);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }

  Controller* ctl_;
  ExecStreams* exec_;
  TunnelStreams* tunnels_;
  WaitCalls* waits_;
  const Authenticator* auth_;
};

class ServerImpl : public Server {
 public:
  explicit ServerImpl(Controller* c)
      : auth_(&c->access()),
        router_(),
        exec_(c, &router_),
        tunnels_(c, &tunnel_router_),
        waits_(c),
        ctl_svc_(c, &exec_, &tunnels_, &waits_, &auth_),
        link_svc_(c, &router_, &tunnel_router_, &auth_) {
    auth_.set_job_check([c](int64_t id) { return c->JobActive(id); });
  }
  Status Build(const ServerOptions& o) {
    const std::string& listen = o.listen;
    PrepareGrpc();
    grpc::ServerBuilder b;
    int port = 0;
    // TLS with the cluster's certificate. A client certificate is asked for and, when one is
    // sent, must be the CA's: nodes connect with theirs, users with none (and a token).
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = o.ca_pem;
    ssl.pem_key_cert_pairs.push_back({o.server_key_pem, o.server_cert_pem});
    b.AddListeningPort(listen, grpc::SslServerCredentials(ssl), &port);
    b.RegisterService(&ctl_svc_);
    b.RegisterService(&link_svc_);
    // Requests are small (a job is its script): a larger one is refused before it is read.
    b.SetMaxReceiveMessageSize(kMaxMessageBytes);
    b.SetMaxSendMessageSize(256 << 20);
    b.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 20);
    b.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // as the clients (fabric/channel.cc)
    server_ = b.BuildAndStart();
    if (!server_ || port == 0) return Status::Unavailable("--listen " + listen + ": cannot bind");
    std::string host = listen.substr(0, listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
    address_ = host + ":" + std::to_string(port);
    if (!o.socket_path.empty()) {
      auto local = LocalSocket::Start(o.socket_path, server_.get());
      if (!local.ok()) return local.status();
      local_ = std::move(*local);
      auth_.set_local(local_.get());
    }
    return Status::Ok();
  }
  std::string address() const override { return address_; }
  void Wait() override { server_->Wait(); }
  void Shutdown() override {
    // Node streams never end by themselves: end them now rather than after the grace period
    // that in-flight calls get, so the nodes go on to reconnect at once.
    // Exec calls first: their clients follow their steps again on the next controller, rather
    // than hear that the steps' nodes disconnected.
    if (local_) local_->Stop();
    exec_.EndAll("corrald is shutting down");
    tunnels_.EndAll("corrald is shutting down");
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
    tunnels_.WaitForStreams();
    waits_.WaitForCalls();
  }

 private:
  Authenticator auth_;
  std::unique_ptr<LocalSocket> local_;  // stopped by Shutdown, while server_ still is
  StepRouter router_;
  TunnelRouter tunnel_router_;
  ExecStreams exec_;
  TunnelStreams tunnels_;
  WaitCalls waits_;
  ControllerService ctl_svc_;
  NodeLinkService link_svc_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(Controller* controller, const ServerOptions& o) {
  auto s = std::make_unique<ServerImpl>(controller);
  if (Status st = s->Build(o); !st.ok()) return st;
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace corral::ctld
