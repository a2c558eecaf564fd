#include "sched/ctld/refusal_log.h"

#include <algorithm>
#include <vector>

namespace corral::ctld {

std::string RefusalLog::HostOf(const std::string& peer) {
  std::string p = peer;
  for (const char* scheme : {"ipv4:", "ipv6:"}) {
    if (p.rfind(scheme, 0) == 0) {
      p = p.substr(5);
      size_t colon = p.rfind(':');
      if (colon != std::string::npos) p = p.substr(0, colon);
      if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
      return p;
    }
  }
  return p;
}

void RefusalLog::Refused(const std::string& peer, const std::string& why, TimeMs now) {
  const std::string host = HostOf(peer).substr(0, 128);
  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (hosts_.size() >= max_hosts_ && !hosts_.count(host)) {
      // Forget the half whose windows are oldest.
      std::vector<std::pair<TimeMs, std::string>> by_age;
      for (const auto& [h, w] : hosts_) by_age.emplace_back(w.start, h);
      std::sort(by_age.begin(), by_age.end());
      for (size_t i = 0; i < by_age.size() / 2 + 1 && i < by_age.size(); ++i) {
        hosts_.erase(by_age[i].second);
      }
    }
    Window& w = hosts_[host];
    if (now - w.start >= 60000) {
      if (w.quiet > 0) {
        lines.push_back(std::to_string(w.quiet) + " more refused call(s) from " + host +
                        " in the minute before, not logged one by one");
      }
      w = Window{now, 0, 0};
    }
    if (w.logged < per_minute_) {
      ++w.logged;
      lines.push_back("refused a call from " + peer + ": " + why);
      if (w.logged == per_minute_) {
        lines.back() += " (more from " + host + " this minute are counted, not logged)";
      }
    } else {
      ++w.quiet;
    }
  }
  for (const std::string& s : lines) sink_(s);
}

}  // namespace corral::ctld
