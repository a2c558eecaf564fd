// Gavel's throughput table (Narayanan et al., OSDI '20; shared/data/traces/gavel): the training
// throughput, in steps per second, of each job type on each GPU model, measured alone. The
// speed table for heterogeneity-aware placement (issue 11). Pure apart from reading the file;
// nothing throws.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace corral::sim {

struct GavelTable {
  std::vector<std::string> models;  // lower case, sorted: "k80", "p100", "v100"
  std::vector<std::string> jobs;    // sorted: "A3C", "ResNet-18 (batch size 16)", ...
  // (model, job) -> steps/s on one GPU, alone; only pairs measured above zero.
  std::map<std::pair<std::string, std::string>, double> throughput;

  // Steps/s of `job` on `model`, or 0 when not measured.
  double Of(const std::string& model, const std::string& job) const;
  // The job's models, fastest first (ties by name); those not measured are left out.
  std::vector<std::string> Fastest(const std::string& job) const;
};

// Parses the JSON: {model: {"('JOB', SCALE)": {"null": steps/s, ...}}}. Models with a suffix
// ("v100_unconsolidated") and scales other than 1 are skipped. Errors: not JSON, "MODEL: not an
// object", "MODEL: KEY: not a job key ('NAME', SCALE)", "MODEL: JOB: null: not a number" and
// "no throughputs".
Result<GavelTable> ParseGavel(std::string_view json);

// Reads `path` (plain or gzip) and parses it; errors name the path.
Result<GavelTable> ReadGavel(const std::string& path);

}  // namespace corral::sim
