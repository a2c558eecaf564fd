#include "sched/ctld/wait_call.h"

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "fabric/channel.h"

namespace corral::ctld {

class WaitCall final : public grpc::ServerUnaryReactor {
 public:
  WaitCall(WaitCalls* owner, const v1::WaitRequest* req, v1::WaitReply* reply)
      : owner_(owner), answer_(std::make_shared<Answer>(this, reply)) {
    // Listed before anything can finish the call: OnDone, which unlists it, may come at once.
    owner->calls_.Add(this);
    Controller* ctl = owner->ctl_;
    if (req->ids_size() == 0) {
      answer_->Give(Status::Invalid("wait: no job ids given"));
      return;
    }
    // The Controller answers later, from another thread, possibly after the client has gone:
    // the answer holds no more than a pointer that OnDone clears.
    ctl->Wait(*req, [a = answer_](Result<v1::WaitReply> r) { a->Give(std::move(r)); });
  }

  void OnCancel() override { answer_->Give(Status::Unavailable("wait: cancelled")); }
  void OnDone() override {
    answer_->Detach();
    owner_->calls_.Remove(this);
    delete this;
  }

  // The first answer finishes the call; later ones, and any after OnDone, are dropped.
  class Answer {
   public:
    Answer(WaitCall* call, v1::WaitReply* reply) : call_(call), reply_(reply) {}
    void Give(Result<v1::WaitReply> r) {
      WaitCall* call = nullptr;
      grpc::Status st;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (given_ || call_ == nullptr) return;
        given_ = true;
        call = call_;
        if (r.ok()) {
          *reply_ = std::move(*r);  // gRPC's reply message lives until OnDone, after Finish
        } else {
          st = ToGrpc(r.status());
        }
      }
      call->Finish(st);
    }
    void Detach() {
      std::lock_guard<std::mutex> l(mu_);
      call_ = nullptr;
    }

   private:
    std::mutex mu_;
    WaitCall* call_;
    v1::WaitReply* reply_;
    bool given_ = false;
  };

  std::shared_ptr<Answer> answer() const { return answer_; }

 private:
  WaitCalls* owner_;
  std::shared_ptr<Answer> answer_;
};

grpc::ServerUnaryReactor* WaitCalls::Start(const v1::WaitRequest* req, v1::WaitReply* reply) {
  return new WaitCall(this, req, reply);
}

void WaitCalls::EndAll(const std::string& why) {
  // The answers, not the calls: a call may be deleted as soon as mu_ is released.
  std::vector<std::shared_ptr<WaitCall::Answer>> answers;
  calls_.ForEach([&](WaitCall* c) { answers.push_back(c->answer()); });
  for (auto& a : answers) a->Give(Status::Unavailable(why));
}

}  // namespace corral::ctld
