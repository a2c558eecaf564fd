#include "sched/ctld/node_link.h"

#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "fabric/channel.h"

namespace corral::ctld {

namespace {

using Reactor = grpc::ServerBidiReactor<v1::NodeMessage, v1::ControllerMessage>;

// One node's stream. gRPC deletes nothing: the link deletes itself in OnDone, after every
// operation has completed. The Controller holds the Channel, which may outlive the link.
class Link final : public Reactor {
 public:
  Link(Controller* ctl, StepRouter* router)
      : ctl_(ctl), router_(router), channel_(std::make_shared<Channel>(this)) {
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
    delete this;
  }

 private:
  // What the Controller sends to this node. Send may be called from any thread, also after the
  // stream has ended (it then returns false).
  class Channel final : public NodeChannel {
   public:
    explicit Channel(Link* link) : link_(link) {}

    bool Send(const v1::ControllerMessage& msg) override {
      const v1::ControllerMessage* first = nullptr;
      Link* link = nullptr;
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
      Link* link = nullptr;
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
      Link* link = nullptr;
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
    Link* link_;                             // null once the stream is done
    std::deque<v1::ControllerMessage> out_;  // front() is in flight while writing_
    bool writing_ = false;
    bool closing_ = false;        // no new writes
    bool finished_ = false;       // Finish called or scheduled
    bool finish_wanted_ = false;  // Finish once the write in flight is done
    grpc::Status final_;
  };

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

  Controller* ctl_;
  StepRouter* router_;
  std::shared_ptr<Channel> channel_;
  v1::NodeMessage in_;
  std::string name_;  // set once registered; read only by this stream's reactions
};

}  // namespace

Reactor* NodeLinkService::Connect(grpc::CallbackServerContext*) {
  return new Link(ctl_, router_);
}

}  // namespace corral::ctld
