// Parsers for --array and --dependency values, as sbatch writes them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/job.h"
#include "common/status.h"

namespace corral {

struct ArraySpec {
  std::vector<int32_t> indices;  // ascending, no duplicates
  int32_t throttle = 0;          // %N; 0 = no limit
};

inline constexpr int32_t kMaxArrayIndex = 9999999;
inline constexpr size_t kMaxArrayTasks = 1000000;

// "0-99", "1,3,5-7", "0-15:4" (every 4th), each optionally followed by "%N".
// Errors name `option` and the value, e.g. `--array: "5-1": the range runs backwards`.
Result<ArraySpec> ParseArraySpec(std::string_view option, const std::string& value);

// "afterok:12:13,afterany:14" (types after, afterok, afternotok, afterany, aftercorr; a bare id
// means afterany; "singleton" takes no id). ',' joins them as all of them, '?' as any of them
// (*any is set then); the two do not mix.
Result<std::vector<JobSpec::Dependency>> ParseDependencies(std::string_view option,
                                                           const std::string& value,
                                                           bool* any = nullptr);

}  // namespace corral
