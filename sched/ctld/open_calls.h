// The calls in progress on a callback-API service, so that the server can reach them all (to end
// them at shutdown) and wait until none is left to touch what they use. Thread-safe. A call adds
// itself before anything can finish it, and removes itself in OnDone, before it is deleted.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>

namespace corral::ctld {

template <typename Call>
class OpenCalls {
 public:
  void Add(Call* c) {
    std::lock_guard<std::mutex> l(mu_);
    open_.insert(c);
  }
  void Remove(Call* c) {
    std::lock_guard<std::mutex> l(mu_);
    open_.erase(c);
    if (open_.empty()) cv_.notify_all();
  }
  // Calls `f` on each open call, under the lock: `f` must neither block nor finish the call. It
  // takes what must outlive the lock (a shared_ptr) and the caller acts on it afterwards.
  template <typename F>
  void ForEach(F f) {
    std::lock_guard<std::mutex> l(mu_);
    for (Call* c : open_) f(c);
  }
  // Blocks until every added call has been removed.
  void WaitForNone() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return open_.empty(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<Call*> open_;
};

}  // namespace corral::ctld
