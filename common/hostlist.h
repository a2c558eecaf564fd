// Slurm-style host lists: "n1,n2,n3,gpu7" <-> "n[1-3],gpu7".
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace corral {

// Compresses names that share a prefix and differ in a trailing number into ranges,
// keeping first-appearance order of the prefixes.
std::string CompressHostlist(const std::vector<std::string>& hosts);
// Expands "n[1-3,5],gpu7" into names. Fails on unbalanced brackets or bad ranges.
Result<std::vector<std::string>> ExpandHostlist(const std::string& list);

}  // namespace corral
