#include "common/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace corral {

TimeMs WallNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

TimeMs MonotonicNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string FormatTime(TimeMs t) {
  if (t <= 0) return "-";
  time_t secs = static_cast<time_t>(t / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

std::string FormatDuration(TimeMs d) {
  if (d < 1000) return "00:00";  // most of a long queue has not started
  int64_t s = d / 1000;
  int64_t days = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
  char buf[48];
  if (days > 0) {
    snprintf(buf, sizeof buf, "%lld-%02lld:%02lld:%02lld", (long long)days, (long long)h,
             (long long)m, (long long)sec);
  } else if (h > 0) {
    snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", (long long)h, (long long)m, (long long)sec);
  } else {
    snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)m, (long long)sec);
  }
  return buf;
}

}  // namespace corral
