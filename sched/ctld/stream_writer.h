// The write side of a server stream on gRPC's callback API (a ServerBidiReactor or a
// ServerWriteReactor), shared by corrald's node links and Exec streams. Messages queued from any
// thread go out one at a time, as gRPC requires, all but the last of a burst buffered so that a
// burst costs one flush. The stream is finished exactly once, and only when no write is in
// flight: a reactor must not be written to after Finish, nor be deleted with a write in flight.
// The reactor calls WriteDone from OnWriteDone and Detach from OnDone; after Detach every call
// is a no-op, so the writer may outlive its reactor (hold it by shared_ptr).
// With a byte limit, a peer that reads too slowly (or never) cannot make corrald hold more than
// that: the Send that would pass it finishes the stream with RESOURCE_EXHAUSTED instead.
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <mutex>
#include <utility>

namespace corral::ctld {

template <typename Reactor, typename Msg>
class StreamWriter {
 public:
  explicit StreamWriter(Reactor* reactor, size_t max_queued_bytes = 0)
      : reactor_(reactor), max_bytes_(max_queued_bytes) {}

  // Queues `msg`. False, and nothing queued, once the stream is closing, or when `msg` would
  // pass the byte limit (then overflowed() is true and the stream is finished).
  bool Send(Msg msg) {
    const Msg* first = nullptr;
    Reactor* r = nullptr;
    const size_t bytes = msg.ByteSizeLong();
    Reactor* finish = nullptr;  // the stream overflowed now and no write is in flight
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closing_ || reactor_ == nullptr) return false;
      if (max_bytes_ > 0 && queued_bytes_ + bytes > max_bytes_) {
        overflowed_ = true;
        closing_ = true;
        drop_ = true;
        if (!finished_) {
          finished_ = true;
          final_ =
              grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "the peer reads too slowly: " + std::to_string(queued_bytes_ >> 20) +
                               " MiB are waiting for it");
          if (writing_) {
            finish_wanted_ = true;
          } else {
            finish = reactor_;
          }
        }
      }
      if (!overflowed_) {
        queued_bytes_ += bytes;
        sizes_.push_back(bytes);
        out_.push_back(std::move(msg));
        if (writing_) return true;
        writing_ = true;
        first = &out_.front();
        r = reactor_;
      }
    }
    if (finish != nullptr || r == nullptr) {
      if (finish != nullptr) finish->Finish(final_);
      return false;
    }
    // Not under mu_: gRPC may run OnWriteDone on this thread before StartWrite returns. The
    // reactor outlives the write: it is not finished while a write is in flight.
    r->StartWrite(first);
    return true;
  }

  // The write at the front is done: start the next, or finish if that waited for this write.
  void WriteDone(bool ok) {
    const Msg* next = nullptr;
    grpc::WriteOptions o;
    bool finish = false;
    Reactor* r = nullptr;
    {
      std::lock_guard<std::mutex> l(mu_);
      r = reactor_;
      out_.pop_front();
      queued_bytes_ -= sizes_.front();
      sizes_.pop_front();
      if (!ok) {  // the stream is broken: nothing more goes out
        closing_ = true;
        drop_ = true;
      }
      if (drop_) {
        out_.clear();
        sizes_.clear();
        queued_bytes_ = 0;
      }
      if (!out_.empty()) {
        next = &out_.front();
        if (out_.size() > 1) o.set_buffer_hint();
      } else {
        writing_ = false;
        finish = finish_wanted_;
        finish_wanted_ = false;
      }
    }
    if (r == nullptr) return;
    if (next != nullptr) {
      r->StartWrite(next, o);
    } else if (finish) {
      r->Finish(final_);
    }
  }

  // No more messages: finishes with `s`, once what is queued has gone out (drain) or at once,
  // dropping it. A write in flight is always waited for. Only the first call counts.
  void Close(grpc::Status s, bool drain = false) {
    Reactor* r = nullptr;
    {
      std::lock_guard<std::mutex> l(mu_);
      closing_ = true;
      if (!drain) drop_ = true;
      if (finished_ || reactor_ == nullptr) return;
      finished_ = true;
      final_ = std::move(s);
      if (writing_) {
        finish_wanted_ = true;
      } else {
        r = reactor_;
      }
    }
    if (r != nullptr) r->Finish(final_);
  }

  // Whether a Send passed the byte limit.
  bool overflowed() {
    std::lock_guard<std::mutex> l(mu_);
    return overflowed_;
  }

  // The reactor is done (OnDone): forget it.
  void Detach() {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = true;
    reactor_ = nullptr;
  }

 private:
  std::mutex mu_;
  Reactor* reactor_;          // null once the reactor is done
  std::deque<Msg> out_;       // front() is in flight while writing_; empty otherwise
  std::deque<size_t> sizes_;  // of out_'s messages
  size_t queued_bytes_ = 0;
  const size_t max_bytes_;  // 0: no limit
  bool overflowed_ = false;
  bool writing_ = false;
  bool closing_ = false;        // no new messages
  bool finished_ = false;       // Finish called, or due after the write in flight
  bool finish_wanted_ = false;  // Finish once the writes are done
  bool drop_ = false;           // discard what is queued behind the write in flight
  grpc::Status final_;
};

}  // namespace corral::ctld
