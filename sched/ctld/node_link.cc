#include "sched/ctld/node_link.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.h"
#include "fabric/channel.h"
#include "sched/ctld/stream_writer.h"

namespace corral::ctld {

using Reactor = grpc::ServerBidiReactor<v1::NodeMessage, v1::ControllerMessage>;

// One node's stream. It deletes itself in OnDone, after every operation has completed. The
// Controller holds its Channel, which may outlive it.
class NodeStream final : public Reactor {
 public:
  NodeStream(NodeLinkService* service, Caller who)
      : service_(service),
        who_(std::move(who)),
        ctl_(service->ctl_),
        router_(service->router_),
        tunnels_(service->tunnels_),
        channel_(std::make_shared<Channel>(this)) {
    service->streams_.Add(this);
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The node went away, or the server is shutting down.
      if (!name_.empty()) {
        ctl_->NodeDisconnected(name_, channel_.get());
        v1::ExecEvent gone;
        gone.set_error("node " + name_ + " disconnected");
        router_->FailNode(name_, gone);
        v1::TunnelFrame cut;
        cut.set_error("tunnel: node " + name_ + " disconnected");
        tunnels_->FailNode(name_, cut);
      }
      EndStream(grpc::Status::OK);
      return;
    }
    if (name_.empty()) {
      Register();
      return;
    }
    Dispatch();
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override { channel_->writer().WriteDone(ok); }

  void OnDone() override {
    channel_->writer().Detach();
    service_->streams_.Remove(this);
    delete this;
  }

  // What the Controller sends to this node. Send may be called from any thread, also after the
  // stream has ended (it then returns false).
  class Channel final : public NodeChannel {
   public:
    // A node that stops reading is cut once this much waits for it; it reconnects.
    explicit Channel(NodeStream* stream) : writer_(stream, 256 << 20) {}
    bool Send(const v1::ControllerMessage& msg) override { return writer_.Send(msg); }
    void Revoke(const std::string& why) override {
      writer_.Close(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, why));
    }
    StreamWriter<NodeStream, v1::ControllerMessage>& writer() { return writer_; }

   private:
    StreamWriter<NodeStream, v1::ControllerMessage> writer_;
  };

  // Outlives the stream: EndAll closes streams through it, from any thread.
  std::shared_ptr<Channel> channel() const { return channel_; }

 private:
  void EndStream(grpc::Status s) { channel_->writer().Close(std::move(s)); }

  void Register() {
    if (!in_.has_register_()) {
      EndStream(ToGrpc(Status::Invalid("node link: the first message must be a registration")));
      return;
    }
    const std::string name = in_.register_().profile().name();
    if (!name.empty() && !MayBe(name)) {  // a nameless one is refused for that, below
      spdlog::warn("node link: the certificate of {} may not register as {}; refused", who_.user,
                   name.substr(0, 64));
      EndStream(
          ToGrpc(Status::PermissionDenied("node link: this certificate is node " + who_.user +
                                          "'s; it may not register as " + name.substr(0, 64))));
      return;
    }
    // Answered after the commit, on the Controller's writer thread: nothing here waits for it.
    ctl_->NodeConnected(in_.register_(), channel_, [this, name](Result<v1::Registered> reg) {
      if (!reg.ok()) {
        EndStream(ToGrpc(reg.status()));
        return;
      }
      name_ = name;
      v1::ControllerMessage hello;
      *hello.mutable_registered() = *reg;
      channel_->Send(hello);
      StartRead(&in_);
    });
  }

  void Dispatch() {
    if (in_.has_step_output()) {
      const auto& o = in_.step_output();
      v1::ExecEvent ev;
      if (!o.stdout().empty()) ev.set_stdout(o.stdout());
      if (!o.stderr().empty()) ev.set_stderr(o.stderr());
      router_->Deliver(name_, o.step_id(), std::move(ev), false);
    } else if (in_.has_step_exit()) {
      const auto& x = in_.step_exit();
      v1::ExecEvent ev;
      if (!x.error().empty()) {
        ev.set_error(x.error());
      } else {
        ev.set_exit_code(x.exit_code());
      }
      if (router_->Deliver(name_, x.step_id(), std::move(ev), true)) {
        // Its client has the exit: the node may forget the step.
        v1::ControllerMessage ack;
        ack.mutable_ack_step()->set_step_id(x.step_id());
        channel_->Send(ack);
      }
      ctl_->NodeMessage(name_, in_);  // its row in /steps
    } else if (in_.has_tunnel()) {
      v1::TunnelFrame& f = *in_.mutable_tunnel();
      const int64_t id = f.id();
      const bool last = f.has_exit_code() || f.has_error();
      if (!tunnels_->Deliver(name_, id, std::move(f), last) && !last) {
        // Nobody follows it (its client left): the node ends it.
        v1::ControllerMessage close;
        close.mutable_tunnel()->set_id(id);
        close.mutable_tunnel()->set_close(true);
        channel_->Send(close);
      }
    } else if (in_.has_register_()) {
      // Re-registration on the same stream is not allowed; ignore it.
    } else {
      ctl_->NodeMessage(name_, in_);
    }
  }

  // The identity's own name, or for a fleet of N, its name followed by 1..N.
  bool MayBe(const std::string& name) const {
    if (name == who_.user) return true;
    if (who_.fleet <= 0 || name.size() <= who_.user.size() || name.rfind(who_.user, 0) != 0) {
      return false;
    }
    const std::string n = name.substr(who_.user.size());
    if (n.size() > 6 || n[0] == '0' || n.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    return std::stoi(n) <= who_.fleet;
  }

  NodeLinkService* service_;
  Caller who_;
  Controller* ctl_;
  StepRouter* router_;
  TunnelRouter* tunnels_;
  std::shared_ptr<Channel> channel_;
  v1::NodeMessage in_;
  std::string name_;  // set once registered; read only by this stream's reactions
};

namespace {

// A stream that is refused before it starts.
class Refused final : public Reactor {
 public:
  explicit Refused(const Status& s) { Finish(ToGrpc(s)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::Status NodeLinkService::Attach(grpc::ServerContext* ctx, const v1::AttachRequest* req,
                                     v1::AttachReply* reply) {
  auto r = ctl_->Attach(*req, ctx->peer());
  if (!r.ok()) return ToGrpc(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

Reactor* NodeLinkService::Connect(grpc::CallbackServerContext* ctx) {
  auto who = auth_->Identify(ctx);
  if (!who.ok()) return new Refused(who.status());
  if (who->role != Role::kNode) {
    spdlog::warn("node link: {} ({}) is no node; refused", who->user, who->how);
    return new Refused(Status::PermissionDenied(
        "node link: only an attached node may connect (corral-node --join-token)"));
  }
  return new NodeStream(this, std::move(who).value());
}

void NodeLinkService::EndAll(const std::string& why) {
  // The channels, not the streams: a stream may be deleted once the lock is released, its
  // channel may not. Closed outside the lock, as gRPC may run reactions on this thread.
  std::vector<std::shared_ptr<NodeStream::Channel>> channels;
  streams_.ForEach([&](NodeStream* s) { channels.push_back(s->channel()); });
  for (auto& c : channels) c->writer().Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, why));
}

void NodeLinkService::WaitForStreams() {
  streams_.WaitForNone();
}

}  // namespace corral::ctld
