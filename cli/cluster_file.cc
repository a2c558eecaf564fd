#include "cli/cluster_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

#include "common/provider_terms.h"

namespace corral::cli {

Result<std::vector<ClusterNode>> ParseClusterFile(const std::string& text,
                                                  const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::Invalid("cluster file: " + std::string(e.what()));
  }
  if (!root.IsMap() || !root["nodes"] || !root["nodes"].IsSequence()) {
    return Status::Invalid("cluster file: needs a list under `nodes:`");
  }
  for (const auto& kv : root) {
    const std::string k = kv.first.as<std::string>();
    if (k != "nodes" && k != "partitions" && k != "scheduler") {
      return Status::Invalid("cluster file: " + k.substr(0, 32) +
                             ": unknown section (nodes, partitions, scheduler)");
    }
  }
  std::vector<ClusterNode> out;
  std::set<std::string> names;
  size_t i = 0;
  try {
    for (const auto& n : root["nodes"]) {
      std::string where = "nodes[" + std::to_string(i++) + "]";
      if (!n.IsMap()) return Status::Invalid("cluster file: " + where + ": must be a mapping");
      for (const auto& kv : n) {
        std::string k = kv.first.as<std::string>();
        if (k != "name" && k != "topology" && k != "gpus" && k != "count" && k != "min_price" &&
            k != "accounts" && k != "max_time" && k != "contain") {
          return Status::Invalid("cluster file: " + where + "." + k + ": unknown field");
        }
      }
      if (!n["name"]) return Status::Invalid("cluster file: " + where + ".name: missing");
      std::string name = n["name"].as<std::string>();
      if (name.empty() || name.size() > 48 ||
          name.find_first_not_of(
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
              std::string::npos) {
        return Status::Invalid("cluster file: " + where + ".name: \"" + name +
                               "\" must be 1-48 letters, digits, - or _");
      }
      int count = 1;
      bool counted = false;
      if (n["count"]) {
        counted = true;
        try {
          count = n["count"].as<int>();
        } catch (const YAML::Exception&) {
          return Status::Invalid("cluster file: " + where + ".count: not an integer");
        }
        if (count < 1 || count > 256) {
          return Status::Invalid("cluster file: " + where + ".count: must be 1..256");
        }
      }
      std::string topo = n["topology"] ? n["topology"].as<std::string>() : "";
      if (!topo.empty() && topo.size() > 4 && topo.substr(topo.size() - 4) == ".xml" &&
          topo[0] != '/') {
        topo = (std::filesystem::path(base_dir) / topo).lexically_normal().string();
      }
      std::string gpus = n["gpus"] ? n["gpus"].as<std::string>() : "";
      auto text = [&](const char* key) { return n[key] ? n[key].as<std::string>() : ""; };
      const std::string min_price = text("min_price"), accounts = text("accounts"),
                        max_time = text("max_time");
      if (auto t = ParseProviderTerms(min_price, accounts, max_time); !t.ok()) {
        return Status::Invalid("cluster file: " + where + ": " + t.status().message());
      }
      bool contain = true;
      if (n["contain"]) {
        try {
          contain = n["contain"].as<bool>();
        } catch (const YAML::Exception&) {
          return Status::Invalid("cluster file: " + where + ".contain: must be true or false");
        }
      }
      for (int c = 1; c <= count; ++c) {
        ClusterNode cn{counted ? name + std::to_string(c) : name,
                       topo,
                       gpus,
                       min_price,
                       accounts,
                       max_time,
                       contain};
        if (!names.insert(cn.name).second) {
          return Status::Invalid("cluster file: " + where + ".name: \"" + cn.name +
                                 "\" appears twice");
        }
        out.push_back(cn);
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::Invalid("cluster file: " + std::string(e.what()));
  }
  if (out.empty()) return Status::Invalid("cluster file: `nodes:` is empty");
  return out;
}

std::string ControllerSections(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return "";
  }
  if (!root.IsMap()) return "";
  YAML::Node rest(YAML::NodeType::Map);
  for (const auto& kv : root) {
    if (kv.first.as<std::string>() != "nodes") rest[kv.first] = kv.second;
  }
  if (rest.size() == 0) return "";
  YAML::Emitter e;
  e << rest;
  return std::string(e.c_str()) + "\n";
}

}  // namespace corral::cli
