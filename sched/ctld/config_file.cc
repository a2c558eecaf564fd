#include "sched/ctld/config_file.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "common/duration.h"
#include "common/hostlist.h"
#include "sched/ctld/admin_specs.h"

namespace corral::ctld {

namespace {

Status Bad(const std::string& where, const std::string& why) {
  return Status::Invalid("config: " + where + ": " + why);
}

std::string Scalar(const YAML::Node& n) {
  return n.IsScalar() ? n.Scalar() : "";
}

// A list of names: a YAML sequence or one string, each a comma-separated list with Slurm host
// ranges ("n[1-3],gpu*").
Result<std::vector<std::string>> Names(const YAML::Node& n, const std::string& where) {
  std::vector<std::string> out;
  std::vector<YAML::Node> items;
  if (n.IsSequence()) {
    for (const auto& e : n) items.push_back(e);
  } else {
    items.push_back(n);
  }
  for (const YAML::Node& e : items) {
    if (!e.IsScalar()) return Bad(where, "must be a list of names");
    auto names = ExpandHostlist(e.Scalar());
    if (!names.ok()) return Bad(where, names.status().message());
    out.insert(out.end(), names->begin(), names->end());
  }
  return out;
}

Result<int64_t> Time(const YAML::Node& n, const std::string& where) {
  std::string s = Scalar(n);
  int64_t ms = 0;
  if (s.empty() || ParseDurationMs(s, &ms) != DurationParse::kOk) {
    return Bad(where, "\"" + s.substr(0, 32) +
                          "\" is not a time (MIN, HH:MM:SS, D-HH:MM:SS or "
                          "UNLIMITED)");
  }
  return ms == 0 ? int64_t{-1} : ms;
}

Result<int64_t> Int(const YAML::Node& n, const std::string& where, int64_t lo, int64_t hi) {
  std::string s = Scalar(n);
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used == s.size() && v >= lo && v <= hi) return static_cast<int64_t>(v);
  } catch (const std::exception&) {
  }
  return Bad(where, "\"" + s.substr(0, 32) + "\" must be an integer from " + std::to_string(lo) +
                        " to " + std::to_string(hi));
}

Result<bool> Bool(const YAML::Node& n, const std::string& where) {
  std::string s = Scalar(n);
  if (s == "true" || s == "yes" || s == "YES") return true;
  if (s == "false" || s == "no" || s == "NO") return false;
  return Bad(where, "\"" + s.substr(0, 32) + "\" must be true or false");
}

Result<v1::PartitionSpec> Partition(const YAML::Node& n, const std::string& where) {
  if (!n.IsMap()) return Bad(where, "must be a mapping");
  v1::PartitionSpec p;
  p.set_default_time_ms(-1);
  p.set_max_time_ms(-1);
  p.set_max_nodes(-1);
  p.set_priority_tier(1);
  for (const auto& kv : n) {
    const std::string k = kv.first.as<std::string>();
    const std::string at = where + "." + k;
    const YAML::Node& v = kv.second;
    if (k == "name") {
      p.set_name(Scalar(v));
    } else if (k == "nodes" || k == "accounts") {
      auto names = Names(v, at);
      if (!names.ok()) return names.status();
      for (auto& s : *names) k == "nodes" ? p.add_nodes(s) : p.add_accounts(s);
    } else if (k == "default") {
      auto b = Bool(v, at);
      if (!b.ok()) return b.status();
      p.set_is_default(*b);
    } else if (k == "default-time" || k == "max-time" || k == "grace-time") {
      auto t = Time(v, at);
      if (!t.ok()) return t.status();
      if (k == "default-time") p.set_default_time_ms(*t);
      if (k == "max-time") p.set_max_time_ms(*t);
      if (k == "grace-time") p.set_grace_ms(*t < 0 ? 0 : *t);
    } else if (k == "max-nodes") {
      auto i = Int(v, at, 1, 1000000);
      if (!i.ok()) return i.status();
      p.set_max_nodes(static_cast<int32_t>(*i));
    } else if (k == "priority-tier") {
      auto i = Int(v, at, 0, 65533);
      if (!i.ok()) return i.status();
      p.set_priority_tier(static_cast<int32_t>(*i));
    } else if (k == "state" || k == "preempt-mode" || k == "backfill") {
      std::string s = Scalar(v);
      if (k == "state") p.set_state(s);
      if (k == "preempt-mode") p.set_preempt_mode(s);
      if (k == "backfill") p.set_backfill(s);
    } else {
      return Bad(at,
                 "unknown field (name, nodes, default, state, default-time, max-time, "
                 "max-nodes, accounts, priority-tier, preempt-mode, grace-time, backfill)");
    }
  }
  if (p.name().empty()) return Bad(where + ".name", "missing");
  if (auto ok = PartitionFromSpec(p); !ok.ok()) {
    return Status::Invalid("config: " + where + " (" + p.name() + "): " + ok.status().message());
  }
  return p;
}

}  // namespace

Result<ConfigFile> ParseConfigFile(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::Invalid("config: " + std::string(e.what()));
  }
  ConfigFile out;
  if (root.IsNull()) return out;
  if (!root.IsMap()) return Status::Invalid("config: must be a mapping (scheduler, partitions)");
  try {
    for (const auto& kv : root) {
      const std::string k = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (k == "nodes") continue;  // corral up's
      if (k == "scheduler") {
        if (!v.IsMap()) return Bad("scheduler", "must be a mapping of option: value");
        for (const auto& o : v) {
          const std::string name = o.first.as<std::string>();
          if (o.second.IsSequence()) {  // an option given several times (gpu-price)
            for (const auto& item : o.second) {
              if (!item.IsScalar()) return Bad("scheduler." + name, "must be a list of values");
              out.scheduler_args.push_back("--" + name + "=" + item.Scalar());
            }
            continue;
          }
          if (!o.second.IsScalar()) return Bad("scheduler." + name, "must be a single value");
          out.scheduler_args.push_back("--" + name + "=" + o.second.Scalar());
        }
      } else if (k == "partitions") {
        if (!v.IsSequence()) return Bad("partitions", "must be a list");
        std::set<std::string> names;
        size_t i = 0;
        for (const auto& e : v) {
          const std::string where = "partitions[" + std::to_string(i++) + "]";
          auto p = Partition(e, where);
          if (!p.ok()) return p.status();
          if (!names.insert(p->name()).second) {
            return Bad(where + ".name", "\"" + p->name() + "\" appears twice");
          }
          out.partitions.push_back(std::move(*p));
        }
      } else {
        return Bad(k, "unknown section (scheduler, partitions, nodes)");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::Invalid("config: " + std::string(e.what()));
  }
  return out;
}

}  // namespace corral::ctld
