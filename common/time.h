// Time is int64 milliseconds since the Unix epoch everywhere (DESIGN.md rule 3).
// Only processes read the clock; sched/core receives `now` as an argument.
#pragma once

#include <cstdint>
#include <string>

namespace corral {

using TimeMs = int64_t;

TimeMs WallNowMs();
// Milliseconds from a monotonic clock, for deadlines and durations only.
TimeMs MonotonicNowMs();
// "2026-11-27T02:21:23" in UTC, or "-" for 0.
std::string FormatTime(TimeMs t);
// "1-02:03:04", "02:03:04" or "03:04" like Slurm, for a duration.
std::string FormatDuration(TimeMs d);

}  // namespace corral
