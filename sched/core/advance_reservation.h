// Advance reservations (Slurm's `scontrol create reservation`): whole nodes kept over a time
// window for some users or accounts, or for maintenance (for nobody). Jobs ask for one by name
// (--reservation); only they run on its nodes during its window, and they run only there, from
// its start, ending by its end. Pure.
#pragma once

#include <string>
#include <vector>

#include "common/job.h"
#include "common/time.h"

namespace corral::sched {

struct AdvanceReservation {
  std::string name;
  std::vector<std::string> nodes;            // names or patterns, as a partition's (partition.h)
  TimeMs start = 0, end = 0;                 // [start, end)
  std::vector<std::string> users, accounts;  // who may use it (either list)
  bool maintenance = false;                  // no job runs on its nodes in its window

  bool HasNode(const std::string& node) const;
  // Whether a job of this user and account may run in it.
  bool Admits(const JobSpec& spec) const;
};

// "" or what is wrong with `r`, naming the field. `now` bounds the window: it must not have
// ended.
std::string CheckReservation(const AdvanceReservation& r, TimeMs now);

// "" or the first reservation of `others` (itself, by name, excepted) that shares a node of
// `node_names` with `r` over an overlapping window, named with the node: reservations never
// overlap.
std::string FindOverlap(const AdvanceReservation& r, const std::vector<AdvanceReservation>& others,
                        const std::vector<std::string>& node_names);

}  // namespace corral::sched
