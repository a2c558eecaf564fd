#include "sched/ctld/exec_stream.h"

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "common/log.h"
#include "fabric/channel.h"
#include "sched/ctld/stream_writer.h"

namespace corral::ctld {

class ExecStream final : public grpc::ServerWriteReactor<v1::ExecEvent> {
 public:
  ExecStream(ExecStreams* owner, const v1::ExecRequest* req, const std::string& only_user)
      : owner_(owner),
        state_(std::make_shared<State>(owner->ctl_, owner->router_, &owner->ending_, this)) {
    owner->calls_.Add(this);
    if (req->argv_size() == 0 && req->attach_step() == 0) {
      state_->writer.Close(ToGrpc(Status::Invalid("exec: argv is empty")));
      return;
    }
    // The job's node is looked up on the Controller's writer thread; the answer comes back
    // there, to the state, which outlives this reactor if the client has gone by then.
    owner->ctl_->FindStepTarget(
        req->job_id(), req->node(),
        [st = state_, req = *req, only_user](Result<Controller::StepTarget> t) {
          if (t.ok() && !only_user.empty() && t->job.spec().user() != only_user) {
            t = Status::PermissionDenied("exec: job " + std::to_string(req.job_id()) +
                                         " belongs to another user");
          }
          st->Begin(req, t);
        });
  }

  void OnWriteDone(bool ok) override { state_->writer.WriteDone(ok); }
  // What ends this call when the controller stops (the client follows the step again on the
  // next one); it outlives the call.
  std::function<void(const std::string&)> Ender() const {
    return [st = state_](const std::string& why) { st->Leave(why); };
  }
  void OnCancel() override { state_->ClientGone(); }
  void OnDone() override {
    state_->writer.Detach();
    state_->Forget();
    owner_->calls_.Remove(this);
    delete this;
  }

 private:
  struct State : std::enable_shared_from_this<State> {
    State(Controller* c, StepRouter* r, const std::atomic<bool>* e, ExecStream* s)
        : ctl(c), router(r), ending(e), writer(s, kMaxQueuedBytes) {}
    // What a client that does not read may make corrald hold: past it, the call ends and the
    // step is killed, as when the client goes.
    static constexpr size_t kMaxQueuedBytes = 16 << 20;

    // The node and job were looked up: start the step there (Controller writer thread).
    void Begin(const v1::ExecRequest& req, const Result<Controller::StepTarget>& t) {
      if (!t.ok()) {
        writer.Close(ToGrpc(t.status()));
        return;
      }
      std::lock_guard<std::mutex> l(mu);
      if (gone) return;  // finished already
      channel = t->channel;
      job_id = req.job_id();
      interactive = t->job.spec().interactive();
      auto sink = [self = shared_from_this()](v1::ExecEvent ev, bool last) {
        if (!self->writer.Send(std::move(ev)) && self->writer.overflowed()) {
          self->Overrun();
          return;
        }
        if (last) self->writer.Close(grpc::Status::OK, /*drain=*/true);
      };
      if (req.attach_step() != 0) {
        if (!router->Attach(req.attach_step(), req.node(), std::move(sink))) {
          writer.Close(ToGrpc(Status::AlreadyExists("step " + std::to_string(req.attach_step()) +
                                                    " is followed by another client")));
          return;
        }
        step_id = req.attach_step();
        v1::ControllerMessage m;
        m.mutable_attach_step()->set_step_id(step_id);
        m.mutable_attach_step()->set_job_id(job_id);
        if (!channel->Send(m)) {
          router->Close(step_id);
          step_id = 0;
          writer.Close(ToGrpc(Status::Unavailable("node " + req.node() + " is not connected")));
        }
        return;
      }
      step_id = router->Open(req.node(), std::move(sink));
      v1::ExecEvent named;
      named.set_step_id(step_id);
      writer.Send(std::move(named));
      v1::ControllerMessage m;
      auto* s = m.mutable_start_step();
      s->set_step_id(step_id);
      s->set_job_id(req.job_id());
      *s->mutable_argv() = req.argv();
      *s->mutable_env() = req.env();
      s->set_cwd(req.cwd());
      s->set_feed_stdin(req.feed_stdin());
      if (!channel->Send(m)) {
        router->Close(step_id);
        step_id = 0;
        writer.Close(ToGrpc(Status::Unavailable("node " + req.node() + " is not connected")));
      }
    }

    // The client cancelled or went away: kill the step, and end a `corral run` allocation.
    // Unless the controller is stopping: then the step runs on for its client to follow again.
    void ClientGone() {
      int64_t id = TakeStep();
      if (ending->load()) {
        if (id != 0) router->Close(id);
        writer.Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "corrald is shutting down"));
        return;
      }
      if (id != 0) {
        v1::ControllerMessage k;
        k.mutable_kill_step()->set_step_id(id);
        channel->Send(k);
        router->Close(id);
        if (interactive) {
          v1::CancelRequest cancel;
          cancel.add_ids(job_id);
          ctl->Cancel(cancel, [](v1::CancelReply) {});
        }
      }
      writer.Close(grpc::Status::CANCELLED);
    }

    // The client read none of what waited for it (the writer ended the call): the step goes.
    // Under the route's lock: the router is not called back, only told to forget the step.
    void Overrun() {
      int64_t id = TakeStep();
      if (id == 0) return;
      spdlog::warn("exec: step {} of job {} killed: its client does not read its output", id,
                   job_id);
      v1::ControllerMessage k;
      k.mutable_kill_step()->set_step_id(id);
      channel->Send(k);
      router->Close(id);
    }

    void Leave(const std::string& why) {
      if (int64_t id = TakeStep(); id != 0) router->Close(id);
      writer.Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, why));
    }

    // The call is done: the router forgets the step (and with it the sink that holds this).
    void Forget() {
      if (int64_t id = TakeStep(); id != 0) router->Close(id);
    }

    // Marks the call gone, so that Begin starts nothing more, and takes the step it started.
    int64_t TakeStep() {
      std::lock_guard<std::mutex> l(mu);
      gone = true;
      return std::exchange(step_id, 0);
    }

    Controller* ctl;
    StepRouter* router;
    const std::atomic<bool>* ending;
    StreamWriter<ExecStream, v1::ExecEvent> writer;
    std::mutex mu;
    bool gone = false;    // the call ended or the client left: start nothing more
    int64_t step_id = 0;  // while the step is routed here
    std::shared_ptr<NodeChannel> channel;
    int64_t job_id = 0;
    bool interactive = false;
  };

  ExecStreams* owner_;
  std::shared_ptr<State> state_;
};

grpc::ServerWriteReactor<v1::ExecEvent>* ExecStreams::Start(const v1::ExecRequest* req,
                                                            const std::string& only_user) {
  return new ExecStream(this, req, only_user);
}

void ExecStreams::EndAll(const std::string& why) {
  ending_ = true;
  // Ended outside the registry's lock, as gRPC may run reactions on this thread; a call may be
  // done, and deleted, once the lock is released: each is ended through its state.
  std::vector<std::function<void(const std::string&)>> enders;
  calls_.ForEach([&](ExecStream* s) { enders.push_back(s->Ender()); });
  for (auto& end : enders) end(why);
}

void ExecStreams::WaitForStreams() {
  calls_.WaitForNone();
}

}  // namespace corral::ctld
