// Counts the calls in progress on a callback-API service, so that the server can wait, at
// shutdown, until none is left to touch what the calls use. Thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>

namespace corral::ctld {

class CallCount {
 public:
  void Started() {
    std::lock_guard<std::mutex> l(mu_);
    ++live_;
  }
  void Ended() {
    std::lock_guard<std::mutex> l(mu_);
    if (--live_ == 0) cv_.notify_all();
  }
  // Blocks until every started call has ended.
  void WaitForNone() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return live_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int live_ = 0;
};

}  // namespace corral::ctld
