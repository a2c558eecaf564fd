// Logs refused calls (bad credentials) so that a flood of them cannot flood corrald's log: per
// client host, the first `per_minute` refusals of each minute are logged as they come; the rest
// are counted, and one line sums them up at the host's next refusal after that minute. The
// hosts tracked are bounded (the oldest are forgotten). Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "common/time.h"

namespace corral::ctld {

class RefusalLog {
 public:
  using Sink = std::function<void(const std::string& line)>;
  explicit RefusalLog(Sink sink, int per_minute = 10, size_t max_hosts = 10000)
      : sink_(std::move(sink)), per_minute_(per_minute), max_hosts_(max_hosts) {}
  // A call from `peer` (gRPC's "ipv4:HOST:PORT", "ipv6:[HOST]:PORT", ...) was refused: `why`.
  void Refused(const std::string& peer, const std::string& why, TimeMs now_ms);
  // "ipv4:10.0.0.1:5123" -> "10.0.0.1"; other forms as they are.
  static std::string HostOf(const std::string& peer);
  // How many hosts are tracked now.
  size_t hosts() {
    std::lock_guard<std::mutex> l(mu_);
    return hosts_.size();
  }

 private:
  struct Window {
    TimeMs start = 0;
    int logged = 0;
    int64_t quiet = 0;  // refusals not logged in this window
  };
  Sink sink_;
  const int per_minute_;
  const size_t max_hosts_;
  std::mutex mu_;
  std::map<std::string, Window> hosts_;
};

}  // namespace corral::ctld
