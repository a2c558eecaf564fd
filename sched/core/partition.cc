#include "sched/core/partition.h"

#include <algorithm>
#include <cctype>

namespace corral::sched {

bool GlobMatch(const std::string& pattern, const std::string& name) {
  // Iterative wildcard match: on a mismatch, let the last '*' swallow one more character.
  size_t p = 0, n = 0, star = std::string::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p, ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, mark = n;
    } else if (star != std::string::npos) {
      p = star + 1, n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool NodeListHas(const std::vector<std::string>& patterns, const std::string& node) {
  for (const std::string& pat : patterns) {
    if (pat == "ALL" || GlobMatch(pat, node)) return true;
  }
  return false;
}

bool Partition::HasNode(const std::string& node) const {
  return NodeListHas(nodes, node);
}

bool Partition::AllowsAccount(const std::string& account) const {
  return accounts.empty() || std::find(accounts.begin(), accounts.end(), account) != accounts.end();
}

bool ValidName(const std::string& n, bool glob) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
              (glob && (c == '*' || c == '?'));
    if (!ok) return false;
  }
  return true;
}

std::string CheckPartition(const Partition& p) {
  if (!ValidName(p.name, false)) {
    return "name: \"" + p.name.substr(0, 64) +
           "\": must be 1 to 64 letters, digits, '_', '-' or '.'";
  }
  if (p.nodes.empty()) return "nodes: must name at least one node, pattern or ALL";
  for (const std::string& n : p.nodes) {
    if (!ValidName(n, true)) {
      return "nodes: \"" + n.substr(0, 64) +
             "\": must be a node name, a pattern with * or ?, or ALL";
    }
  }
  if (p.default_time_ms < -1 || p.default_time_ms == 0) {
    return "default-time: must be a time, or -1 for the partition's max-time";
  }
  if (p.max_time_ms < -1 || p.max_time_ms == 0) {
    return "max-time: must be a time, or -1 for no limit";
  }
  if (p.max_time_ms > 0 && p.default_time_ms > p.max_time_ms) {
    return "default-time: must not exceed max-time";
  }
  if (p.max_nodes < -1 || p.max_nodes == 0 || p.max_nodes > 1000000) {
    return "max-nodes: must be 1 to 1000000, or -1 for no limit";
  }
  for (const std::string& a : p.accounts) {
    if (!ValidName(a, false)) return "accounts: \"" + a.substr(0, 64) + "\": not an account name";
  }
  if (p.priority_tier < 0 || p.priority_tier > 65533) {
    return "priority-tier: must be 0 to 65533";
  }
  if (p.grace_ms < 0 || p.grace_ms > 24LL * 3600 * 1000) {
    return "grace-time: must be 0 to 24 hours";
  }
  return "";
}

const Partition* DefaultPartition(const std::vector<Partition>& parts) {
  for (const Partition& p : parts)
    if (p.is_default) return &p;
  return parts.empty() ? nullptr : &parts.front();
}

const Partition* FindPartition(const std::vector<Partition>& parts, const std::string& name) {
  if (name.empty()) return DefaultPartition(parts);
  for (const Partition& p : parts)
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<std::string> PartitionList(const std::string& list) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = std::min(list.find(',', at), list.size());
    std::string name = list.substr(at, comma - at);
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(std::move(name));
    }
    at = comma + 1;
  }
  return out;
}

std::vector<const Partition*> JobPartitions(const std::vector<Partition>& parts,
                                            const std::string& list) {
  if (list.find(',') == std::string::npos) return {FindPartition(parts, list)};
  std::vector<const Partition*> out;
  for (const std::string& name : PartitionList(list)) out.push_back(FindPartition(parts, name));
  if (out.empty()) out.push_back(DefaultPartition(parts));
  return out;
}

const Partition* TopPartition(const std::vector<Partition>& parts, const std::string& list) {
  const Partition* top = nullptr;
  for (const Partition* p : JobPartitions(parts, list)) {
    if (p && (!top || p->priority_tier > top->priority_tier)) top = p;
  }
  return top;
}

std::string PartitionBlocks(const Partition& p, const JobSpec& spec) {
  if (p.state == PartitionState::kDown) return "PartitionDown";
  if (!p.AllowsAccount(spec.account)) return "AccountNotAllowed";
  if (p.max_time_ms > 0 && (spec.time_limit_ms <= 0 || spec.time_limit_ms > p.max_time_ms)) {
    return "PartitionTimeLimit";
  }
  if (p.max_nodes > 0) {
    int64_t n = spec.nodes;
    for (const auto& h : spec.het) n += h.nodes;
    if (n > p.max_nodes) return "PartitionNodeLimit";
  }
  return "";
}

const char* PartitionStateName(PartitionState s) {
  switch (s) {
    case PartitionState::kUp:
      return "up";
    case PartitionState::kDown:
      return "down";
    case PartitionState::kDrain:
      return "drain";
  }
  return "up";
}

bool ParsePartitionState(const std::string& s, PartitionState* out) {
  for (PartitionState v : {PartitionState::kUp, PartitionState::kDown, PartitionState::kDrain}) {
    if (s == PartitionStateName(v)) return *out = v, true;
  }
  return false;
}

}  // namespace corral::sched
