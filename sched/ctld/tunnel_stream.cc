#include "sched/ctld/tunnel_stream.h"

#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "common/log.h"
#include "fabric/channel.h"
#include "fabric/tunnel_window.h"
#include "sched/ctld/stream_writer.h"

namespace corral::ctld {

namespace {

constexpr int kMaxArgs = 256;
constexpr size_t kMaxArgBytes = 64 << 10;
constexpr uint32_t kMaxTermSide = 10000;
// Frames a client may send before its tunnel is up (they wait for it).
constexpr size_t kMaxEarlyFrames = 256;

Status Bad(const std::string& field, const std::string& why) {
  return Status::Invalid("tunnel: " + field + ": " + why);
}

Status CheckSize(const v1::TunnelSize& s, const std::string& field) {
  if (s.rows() > kMaxTermSide || s.cols() > kMaxTermSide) {
    return Bad(field, "at most " + std::to_string(kMaxTermSide) + " rows and columns");
  }
  return Status::Ok();
}

}  // namespace

Status CheckTunnelOpen(const v1::TunnelFrame& f) {
  if (!f.has_open()) return Bad("open", "the first frame must open the tunnel");
  const v1::TunnelOpen& o = f.open();
  if (o.job_id() <= 0) return Bad("open.job_id", "must be a job id (> 0)");
  if (o.node().size() > 255) return Bad("open.node", "longer than 255 bytes");
  switch (o.target_case()) {
    case v1::TunnelOpen::kPort:
      if (o.port() < 1 || o.port() > 65535) return Bad("open.port", "must be 1 to 65535");
      return Status::Ok();
    case v1::TunnelOpen::kShell: {
      const v1::TunnelShell& s = o.shell();
      if (s.argv_size() > kMaxArgs) {
        return Bad("open.shell.argv", "more than " + std::to_string(kMaxArgs) + " arguments");
      }
      size_t bytes = 0;
      for (const auto& a : s.argv()) bytes += a.size() + 1;
      if (bytes > kMaxArgBytes) return Bad("open.shell.argv", "longer than 64 KiB");
      if (s.argv_size() > 0 && s.argv(0).empty()) {
        return Bad("open.shell.argv", "the program is empty");
      }
      if (s.term().size() > 64) return Bad("open.shell.term", "longer than 64 bytes");
      for (char c : s.term()) {
        if (c <= ' ' || c > '~') return Bad("open.shell.term", "not a terminal name");
      }
      return CheckSize(s.size(), "open.shell.size");
    }
    case v1::TunnelOpen::kStepStdin:
      if (o.step_stdin() <= 0) return Bad("open.step_stdin", "must be a step id (> 0)");
      return Status::Ok();
    default:
      return Bad("open", "names neither a shell, a port nor a step's stdin");
  }
}

class TunnelStream final : public grpc::ServerBidiReactor<v1::TunnelFrame, v1::TunnelFrame> {
 public:
  TunnelStream(TunnelStreams* owner, std::string only_user)
      : owner_(owner),
        only_user_(std::move(only_user)),
        state_(std::make_shared<State>(owner->router_, this)) {
    owner->calls_.Add(this);
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client sends no more (or went away: OnCancel follows)
      state_->ClientDone();
      return;
    }
    if (!opening_) {
      opening_ = true;
      if (Status s = CheckTunnelOpen(in_); !s.ok()) {
        spdlog::warn("tunnel refused: {}", s.message());
        state_->Fail(s);
        return;
      }
      const v1::TunnelOpen open = in_.open();
      owner_->ctl_->FindStepTarget(
          open.job_id(), open.node(),
          [st = state_, open, only = only_user_](Result<Controller::StepTarget> t) {
            if (t.ok() && !only.empty() && t->job.spec().user() != only) {
              t = Status::PermissionDenied("tunnel: job " + std::to_string(open.job_id()) +
                                           " belongs to another user");
            }
            st->Begin(open, t);
          });
    } else {
      state_->FromClient(std::move(in_));
    }
    in_.Clear();
    if (!state_->Ended()) StartRead(&in_);  // a read in flight at the end is answered, not new
  }
  void OnWriteDone(bool ok) override { state_->writer.WriteDone(ok); }
  void OnCancel() override { state_->End(grpc::Status::CANCELLED); }
  void OnDone() override {
    state_->writer.Detach();
    state_->End(grpc::Status::CANCELLED);
    owner_->calls_.Remove(this);
    delete this;
  }
  std::function<void(const std::string&)> Ender() const {
    return [st = state_](const std::string& why) {
      st->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, why));
    };
  }

 private:
  // Outlives the reactor: the router's sink and the Controller's answer hold it.
  struct State : std::enable_shared_from_this<State> {
    // A window each way is all that flow control lets queue; the limit is a second guard.
    State(TunnelRouter* r, TunnelStream* s) : router(r), writer(s, 4 << 20) {}

    // The job's node was looked up (Controller writer thread): open the tunnel there, then send
    // what the client sent meanwhile.
    void Begin(const v1::TunnelOpen& open, const Result<Controller::StepTarget>& t) {
      std::lock_guard<std::recursive_mutex> l(mu);
      if (ended) return;
      if (!t.ok()) {
        EndLocked(ToGrpc(t.status()));
        return;
      }
      channel = t->channel;
      node = t->node;
      id = router->Open(node, [self = shared_from_this()](v1::TunnelFrame f, bool last) {
        self->FromNode(std::move(f), last);
      });
      v1::TunnelFrame f;
      f.set_id(id);
      *f.mutable_open() = open;
      f.mutable_open()->set_node(node);
      if (!ToNode(std::move(f))) return;
      spdlog::info("tunnel {}: job {} on {} ({})", id, open.job_id(), node,
                   open.has_shell() ? "shell" : "port " + std::to_string(open.port()));
      while (!early.empty() && !ended) {
        v1::TunnelFrame e = std::move(early.front());
        early.pop_front();
        RelayLocked(std::move(e));
      }
    }

    void FromClient(v1::TunnelFrame f) {
      std::lock_guard<std::recursive_mutex> l(mu);
      if (ended) return;
      if (id == 0) {
        if (early.size() >= kMaxEarlyFrames) {
          EndLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "tunnel: too many frames before the tunnel opened"));
          return;
        }
        early.push_back(std::move(f));
        return;
      }
      RelayLocked(std::move(f));
    }

    // The client will send nothing more: the far end gets its end of input, once.
    void ClientDone() {
      v1::TunnelFrame f;
      f.set_eof(true);
      FromClient(std::move(f));
    }

    // What the node sent, through the router (under its route's lock).
    void FromNode(v1::TunnelFrame f, bool last) {
      std::lock_guard<std::recursive_mutex> l(mu);
      if (ended) return;
      f.set_id(0);
      switch (f.frame_case()) {
        case v1::TunnelFrame::kOpened:
          f.set_opened(node);
          break;
        case v1::TunnelFrame::kData:
          if (!down.Receive(f.data().size())) {
            spdlog::warn("tunnel {}: node {} overran its window; cut", id, node);
            EndLocked(grpc::Status(grpc::StatusCode::INTERNAL,
                                   "tunnel: the node sent more than its window"));
            return;
          }
          break;
        case v1::TunnelFrame::kCredit:
          if (!up.Credit(f.credit())) {
            EndLocked(grpc::Status(grpc::StatusCode::INTERNAL,
                                   "tunnel: the node returned credit it was not owed"));
            return;
          }
          break;
        case v1::TunnelFrame::kEof:
          break;
        case v1::TunnelFrame::kExitCode:
        case v1::TunnelFrame::kError:
          last = true;
          break;
        default:
          return;  // nothing else comes from a node: ignored
      }
      writer.Send(std::move(f));
      if (last) {
        node_done = true;
        EndLocked(grpc::Status::OK, /*drain=*/true);
      }
    }

    bool Ended() {
      std::lock_guard<std::recursive_mutex> l(mu);
      return ended;
    }
    void Fail(const Status& s) {
      std::lock_guard<std::recursive_mutex> l(mu);
      EndLocked(ToGrpc(s));
    }
    void End(grpc::Status s) {
      std::lock_guard<std::recursive_mutex> l(mu);
      EndLocked(std::move(s));
    }

    // Under mu. Relays a client's frame to the node, checking its window.
    void RelayLocked(v1::TunnelFrame f) {
      switch (f.frame_case()) {
        case v1::TunnelFrame::kData:
          if (f.data().empty()) return;
          if (eof_sent) {
            EndLocked(ToGrpc(Status::Invalid("tunnel: data after eof")));
            return;
          }
          if (!up.Receive(f.data().size())) {
            EndLocked(
                grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                             "tunnel: data beyond the flow-control window (wait for credit)"));
            return;
          }
          break;
        case v1::TunnelFrame::kCredit:
          if (!down.Credit(f.credit())) {
            EndLocked(ToGrpc(Status::Invalid("tunnel: credit for data not received")));
            return;
          }
          break;
        case v1::TunnelFrame::kResize:
          if (Status s = CheckSize(f.resize(), "resize"); !s.ok()) {
            EndLocked(ToGrpc(s));
            return;
          }
          break;
        case v1::TunnelFrame::kEof:
          if (eof_sent) return;
          eof_sent = true;
          break;
        default:
          EndLocked(ToGrpc(Status::Invalid(
              "tunnel: after open, a client sends only data, credit, resize and eof")));
          return;
      }
      f.set_id(id);
      ToNode(std::move(f));
    }

    // Under mu. False (and the tunnel ended) when the node's link is gone.
    bool ToNode(v1::TunnelFrame f) {
      v1::ControllerMessage m;
      *m.mutable_tunnel() = std::move(f);
      if (channel && channel->Send(m)) return true;
      EndLocked(ToGrpc(Status::Unavailable("tunnel: node " + node + " is not connected")));
      return false;
    }

    // Under mu. Ends the call with `s` once, closing the tunnel on the node unless it ended
    // there.
    void EndLocked(grpc::Status s, bool drain = false) {
      if (ended) return;
      ended = true;
      early.clear();
      if (id != 0) {
        if (!node_done && channel) {
          v1::ControllerMessage m;
          m.mutable_tunnel()->set_id(id);
          m.mutable_tunnel()->set_close(true);
          channel->Send(m);
        }
        router->Close(id);  // the route's sink holds this state; the route stays while used
      }
      if (!s.ok()) {
        v1::TunnelFrame f;
        f.set_error(s.error_message());
        writer.Send(std::move(f));
        drain = true;
      }
      writer.Close(std::move(s), drain);
    }

    TunnelRouter* router;
    StreamWriter<TunnelStream, v1::TunnelFrame> writer;
    // Recursive: gRPC may run a reaction (OnDone, so End) on the thread that writes or finishes
    // the call, which holds it then. `ended` is set before either.
    std::recursive_mutex mu;
    bool ended = false;
    bool node_done = false;  // the node sent its last frame
    bool eof_sent = false;
    int64_t id = 0;  // set once the tunnel is open on the node
    std::string node;
    std::shared_ptr<NodeChannel> channel;
    std::deque<v1::TunnelFrame> early;  // from the client, before the tunnel opened
    ReceiveWindow up;    // client -> node: data relayed, not yet credited by the node
    ReceiveWindow down;  // node -> client
  };

  TunnelStreams* owner_;
  std::string only_user_;
  std::shared_ptr<State> state_;
  v1::TunnelFrame in_;
  bool opening_ = false;  // the first frame was read
};

grpc::ServerBidiReactor<v1::TunnelFrame, v1::TunnelFrame>* TunnelStreams::Start(
    const std::string& only_user) {
  return new TunnelStream(this, only_user);
}

void TunnelStreams::EndAll(const std::string& why) {
  std::vector<std::function<void(const std::string&)>> enders;
  calls_.ForEach([&](TunnelStream* s) { enders.push_back(s->Ender()); });
  for (auto& end : enders) end(why);
}

}  // namespace corral::ctld
