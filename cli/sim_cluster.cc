#include "cli/sim_cluster.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cluster_file.h"
#include "common/subprocess.h"

namespace corral::cli {

namespace {

constexpr std::uintmax_t kMaxFile = 16 << 20;

struct Shape {
  int32_t cpus = 0;
  int64_t mem_mib = 0;
  int32_t gpus = 0;
  std::string model;
  bool operator==(const Shape&) const = default;
};

// corral-node's profile of one node, as the simulator's node shape.
Result<Shape> Profile(const ClusterNode& n, const std::string& corral_node) {
  std::vector<std::string> argv = {corral_node, "--print-profile", "--json", "--name", n.name};
  if (!n.topology.empty()) argv.insert(argv.end(), {"--topology", n.topology});
  if (!n.gpus.empty()) argv.insert(argv.end(), {"--gpus", n.gpus});
  Result<std::string> out = RunCaptured(argv, 60000);
  if (!out.ok()) return out.status();
  nlohmann::json j = nlohmann::json::parse(*out, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j["cpus"].is_number_integer() ||
      !j["mem_mib"].is_number_integer() || !j["gpus"].is_array()) {
    return Status::Internal("corral-node printed no profile");
  }
  Shape s;
  s.cpus = j["cpus"].get<int32_t>();
  s.mem_mib = j["mem_mib"].get<int64_t>();
  for (const auto& g : j["gpus"]) {
    const std::string model = g.value("model", "");
    if (s.gpus > 0 && model != s.model) {
      return Status::Invalid("it has GPUs of two models (" + s.model + ", " + model +
                             "): a simulated node holds GPUs of one model");
    }
    s.model = model;
    ++s.gpus;
  }
  if (s.cpus < 1) return Status::Invalid("it has no CPU");
  return s;
}

}  // namespace

Result<sim::Machine> MachineOfClusterFile(const std::string& path, const std::string& corral_node) {
  const std::string what = "--cluster: " + path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::Invalid(what + ": no such file");
  }
  if (std::filesystem::file_size(path, ec) > kMaxFile) {
    return Status::Invalid(what + ": larger than 16 MiB");
  }
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  if (!f) return Status::Invalid(what + ": cannot be read");
  const std::string base =
      std::filesystem::absolute(path, ec).parent_path().lexically_normal().string();
  Result<std::vector<ClusterNode>> nodes = ParseClusterFile(text.str(), base);
  if (!nodes.ok()) return Status::Invalid(what + ": " + nodes.status().message());
  if (nodes->empty()) return Status::Invalid(what + ": it names no nodes");
  std::map<std::pair<std::string, std::string>, Shape> seen;  // by (topology, gpus)
  sim::Machine m;
  m.source = "cluster file " + path;
  for (const ClusterNode& n : *nodes) {
    auto it = seen.find({n.topology, n.gpus});
    if (it == seen.end()) {
      Result<Shape> s = Profile(n, corral_node);
      if (!s.ok()) {
        std::string m = what + ": node " + n.name + ": " + s.status().message();
        return s.status().code() == Status::Code::kUnavailable ? Status::Unavailable(m)
                                                               : Status::Invalid(m);
      }
      it = seen.emplace(std::make_pair(n.topology, n.gpus), *s).first;
    }
    const Shape& s = it->second;
    if (!m.groups.empty()) {
      sim::NodeGroup& last = m.groups.back();
      if (Shape{last.cpus, last.mem_mib, last.gpus, last.gpu_model} == s) {
        ++last.count;
        continue;
      }
    }
    sim::NodeGroup g;
    g.count = 1;
    g.cpus = s.cpus;
    g.mem_mib = s.mem_mib;
    g.gpus = s.gpus;
    g.gpu_model = s.model;
    m.groups.push_back(g);
  }
  return m;
}

}  // namespace corral::cli
