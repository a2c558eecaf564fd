#include "sched/sim/gavel.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/node.h"    // Lower
#include "sched/sim/swf.h"  // ReadTraceText

namespace corral::sim {

double GavelTable::Of(const std::string& model, const std::string& job) const {
  auto it = throughput.find({model, job});
  return it == throughput.end() ? 0 : it->second;
}

std::vector<std::string> GavelTable::Fastest(const std::string& job) const {
  std::vector<std::string> out;
  for (const std::string& m : models)
    if (Of(m, job) > 0) out.push_back(m);
  std::stable_sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
    return Of(a, job) > Of(b, job);
  });
  return out;
}

namespace {

// "('NAME', SCALE)" -> NAME and SCALE.
bool JobKey(const std::string& key, std::string* name, int* scale) {
  if (key.size() < 7 || key.rfind("('", 0) != 0 || key.back() != ')') return false;
  const size_t close = key.rfind("', ");
  if (close == std::string::npos || close < 2) return false;
  *name = key.substr(2, close - 2);
  const std::string digits = key.substr(close + 3, key.size() - close - 4);
  if (name->empty() || digits.empty() || digits.size() > 4) return false;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  *scale = std::stoi(digits);
  return true;
}

}  // namespace

Result<GavelTable> ParseGavel(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("not a JSON object");
  GavelTable t;
  std::set<std::string> jobs;
  for (const auto& [model_key, per_job] : j.items()) {
    if (model_key.find('_') != std::string::npos) continue;  // co-located variants
    const std::string model = Lower(model_key);
    if (!per_job.is_object()) return Status::Invalid(model_key + ": not an object");
    bool any = false;
    for (const auto& [key, cell] : per_job.items()) {
      std::string name;
      int scale = 0;
      if (!JobKey(key, &name, &scale)) {
        return Status::Invalid(model_key + ": " + key.substr(0, 80) +
                               ": not a job key ('NAME', SCALE)");
      }
      if (scale != 1) continue;
      if (!cell.is_object() || !cell.contains("null") || !cell["null"].is_number()) {
        return Status::Invalid(model_key + ": " + name + ": null: not a number");
      }
      const double steps = cell["null"].get<double>();
      if (!(steps > 0) || steps > 1e9) continue;  // not measured (0) or nonsense
      t.throughput[{model, name}] = steps;
      jobs.insert(name);
      any = true;
    }
    if (any) t.models.push_back(model);
  }
  if (t.throughput.empty()) return Status::Invalid("no throughputs");
  std::sort(t.models.begin(), t.models.end());
  t.jobs.assign(jobs.begin(), jobs.end());
  return t;
}

Result<GavelTable> ReadGavel(const std::string& path) {
  Result<std::string> text = ReadTraceText(path);
  if (!text.ok()) return text.status();
  Result<GavelTable> t = ParseGavel(*text);
  if (!t.ok()) return Status::Invalid(path + ": " + t.status().message());
  return t;
}

}  // namespace corral::sim
