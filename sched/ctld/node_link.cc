#include "sched/ctld/node_link.h"

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fabric/channel.h"

namespace corral::ctld {

using Reactor = grpc::ServerBidiReactor<v1::NodeMessage, v1::ControllerMessage>;

// One node's stream. It deletes itself in OnDone, after every operation has completed. The
// Controller holds its Channel, which may outlive it.
class NodeStream final : public Reactor {
 public:
  explicit NodeStream(NodeLinkService* service)
      : service_(service),
        ctl_(service->ctl_),
        router_(service->router_),
        channel_(std::make_shared<Channel>(this)) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The node went away, or the server is shutting down.
      if (!name_.empty()) {
        ctl_->NodeDisconnected(name_, channel_.get());
        router_->FailNode(name_);
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

  void OnWriteDone(bool ok) override { channel_->WriteDone(ok); }

  void OnDone() override {
    channel_->Detach();
    service_->StreamEnded(this);
    delete this;
  }

  // What the Controller sends to this node. Send may be called from any thread, also after the
  // stream has ended (it then returns false).
  class Channel final : public NodeChannel {
   public:
    explicit Channel(NodeStream* link) : link_(link) {}

    bool Send(const v1::ControllerMessage& msg) override {
      const v1::ControllerMessage* first = nullptr;
      NodeStream* link = nullptr;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (closing_ || link_ == nullptr) return false;
        out_.push_back(msg);
        if (writing_) return true;
        writing_ = true;
        first = &out_.front();
        link = link_;
      }
      // Not under mu_: gRPC may run OnWriteDone on this thread before StartWrite returns. The
      // link outlives the write: it is not finished while a write is in flight.
      link->StartWrite(first);
      return true;
    }

    // The write at the front of the queue is done: start the next, or end the stream if that
    // was asked for while the write was in flight.
    void WriteDone(bool ok) {
      const v1::ControllerMessage* next = nullptr;
      grpc::WriteOptions o;
      bool finish = false;
      NodeStream* link = nullptr;
      {
        std::lock_guard<std::mutex> l(mu_);
        link = link_;
        out_.pop_front();
        if (!ok) closing_ = true;
        if (closing_ || out_.empty()) {
          writing_ = false;
          out_.clear();
          finish = finish_wanted_;
          finish_wanted_ = false;
        } else {
          next = &out_.front();
          // All but the last of a burst may wait in gRPC's buffer: one flush per burst.
          if (out_.size() > 1) o.set_buffer_hint();
        }
      }
      if (next != nullptr) {
        link->StartWrite(next, o);
      } else if (finish) {
        link->Finish(final_);
      }
    }

    // No more writes. The stream is finished now, or when the write in flight is done: a
    // reactor must not write after Finish, nor be deleted with a write in flight.
    void Close(grpc::Status s) {
      NodeStream* link = nullptr;
      {
        std::lock_guard<std::mutex> l(mu_);
        closing_ = true;
        if (finished_) return;
        finished_ = true;
        final_ = std::move(s);
        if (writing_) {
          finish_wanted_ = true;
        } else {
          link = link_;
        }
      }
      if (link != nullptr) link->Finish(final_);
    }

    void Detach() {
      std::lock_guard<std::mutex> l(mu_);
      closing_ = true;
      link_ = nullptr;
    }

   private:
    std::mutex mu_;
    NodeStream* link_;                       // null once the stream is done
    std::deque<v1::ControllerMessage> out_;  // front() is in flight while writing_
    bool writing_ = false;
    bool closing_ = false;        // no new writes
    bool finished_ = false;       // Finish called or scheduled
    bool finish_wanted_ = false;  // Finish once the write in flight is done
    grpc::Status final_;
  };

  // Ends the stream, from any thread, once no write is in flight; a no-op if it is ending.
  std::shared_ptr<Channel> channel() const { return channel_; }

 private:
  void EndStream(grpc::Status s) { channel_->Close(std::move(s)); }

  void Register() {
    if (!in_.has_register_()) {
      EndStream(ToGrpc(Status::Invalid("node link: the first message must be a registration")));
      return;
    }
    const std::string name = in_.register_().profile().name();
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
      router_->Deliver(name_, x.step_id(), std::move(ev), true);
    } else if (in_.has_register_()) {
      // Re-registration on the same stream is not allowed; ignore it.
    } else {
      ctl_->NodeMessage(name_, in_);
    }
  }

  NodeLinkService* service_;
  Controller* ctl_;
  StepRouter* router_;
  std::shared_ptr<Channel> channel_;
  v1::NodeMessage in_;
  std::string name_;  // set once registered; read only by this stream's reactions
};

Reactor* NodeLinkService::Connect(grpc::CallbackServerContext*) {
  auto* s = new NodeStream(this);
  std::lock_guard<std::mutex> l(mu_);
  streams_.insert(s);
  return s;
}

void NodeLinkService::StreamEnded(NodeStream* s) {
  std::lock_guard<std::mutex> l(mu_);
  streams_.erase(s);
  if (streams_.empty()) cv_.notify_all();
}

void NodeLinkService::EndAll(const std::string& why) {
  // The channels, not the streams: a stream may be deleted as soon as mu_ is released, its
  // channel may not. Closed outside mu_, as gRPC may run reactions on this thread.
  std::vector<std::shared_ptr<NodeStream::Channel>> channels;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (NodeStream* s : streams_) channels.push_back(s->channel());
  }
  for (auto& c : channels) c->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, why));
}

void NodeLinkService::WaitForStreams() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return streams_.empty(); });
}

}  // namespace corral::ctld
