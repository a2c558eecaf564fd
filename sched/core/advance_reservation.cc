#include "sched/core/advance_reservation.h"

#include <algorithm>

#include "sched/core/partition.h"

namespace corral::sched {

bool AdvanceReservation::HasNode(const std::string& node) const {
  return NodeListHas(nodes, node);
}

bool AdvanceReservation::Admits(const JobSpec& spec) const {
  if (maintenance) return false;
  return std::find(users.begin(), users.end(), spec.user) != users.end() ||
         std::find(accounts.begin(), accounts.end(), spec.account) != accounts.end();
}

std::string CheckReservation(const AdvanceReservation& r, TimeMs now) {
  if (!ValidName(r.name, false)) {
    return "name: \"" + r.name.substr(0, 64) +
           "\": must be 1 to 64 letters, digits, '_', '-' or '.'";
  }
  if (r.nodes.empty()) return "nodes: must name at least one node, pattern or ALL";
  for (const std::string& n : r.nodes) {
    if (!ValidName(n, true)) {
      return "nodes: \"" + n.substr(0, 64) +
             "\": must be a node name, a pattern with * or ?, or ALL";
    }
  }
  if (r.start <= 0) return "start: must be a time";
  if (r.end <= r.start) return "end: must be after start";
  if (r.end <= now) return "end: " + FormatTime(r.end) + " has passed";
  for (const auto& u : r.users) {
    if (!ValidName(u, false)) return "users: \"" + u.substr(0, 64) + "\": not a user name";
  }
  for (const auto& a : r.accounts) {
    if (!ValidName(a, false)) return "accounts: \"" + a.substr(0, 64) + "\": not an account name";
  }
  if (r.maintenance && (!r.users.empty() || !r.accounts.empty())) {
    return "maintenance: a maintenance reservation admits no users or accounts";
  }
  if (!r.maintenance && r.users.empty() && r.accounts.empty()) {
    return "users: name the users or accounts it is for (or make it a maintenance one)";
  }
  return "";
}

std::string FindOverlap(const AdvanceReservation& r, const std::vector<AdvanceReservation>& others,
                        const std::vector<std::string>& node_names) {
  for (const AdvanceReservation& o : others) {
    if (o.name == r.name || o.end <= r.start || r.end <= o.start) continue;
    auto held = [&](const std::string& n) {
      return "reservation " + o.name + " holds node " + n + " from " + FormatTime(o.start) +
             " to " + FormatTime(o.end);
    };
    for (const std::string& n : node_names) {
      if (r.HasNode(n) && o.HasNode(n)) return held(n);
    }
    // Nodes not attached yet: literal names in both.
    for (const std::string& n : r.nodes) {
      if (n.find_first_of("*?") == std::string::npos && n != "ALL" && o.HasNode(n)) {
        return held(n);
      }
    }
  }
  return "";
}

}  // namespace corral::sched
