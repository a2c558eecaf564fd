// Runtime estimates for backfill. By default a job is planned to run for its time limit
// ("limit"). With the history model (EASY++, after Tsafrir, Etsion and Feitelson 2007) it is
// planned to run as long as its user's last two completed jobs did on average, never longer
// than its limit; the kill time is still the limit. A job that outlives its estimate counts as
// ending at any moment (the profile's overdue rule). Pure.
#pragma once

#include <deque>
#include <map>
#include <string>

#include "common/time.h"

namespace corral::sched {

enum class RuntimeModel { kLimit, kHistory };

class RuntimeHistory {
 public:
  static constexpr size_t kKept = 2;  // EASY++ averages the last two
  // A job of `user` completed after running `ms`.
  void Record(const std::string& user, TimeMs ms);
  // The estimate for a job of `user` with time limit `limit_ms` (<= 0: unlimited): the limit
  // under kLimit or without history, else the mean of the user's last runs, capped at the limit.
  // Never below 1 ms.
  TimeMs Estimate(RuntimeModel model, const std::string& user, TimeMs limit_ms) const;

 private:
  std::map<std::string, std::deque<TimeMs>> runs_;
};

}  // namespace corral::sched
