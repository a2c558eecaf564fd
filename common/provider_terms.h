// corral-node's terms flags (--min-price, --accounts, --max-time) as a provider writes them, into
// the ProviderTerms its registration carries (common/node.h).
#pragma once

#include <string_view>

#include "common/node.h"
#include "common/status.h"

namespace corral {

// Each argument may be empty (not given). min_price: credits per GPU-hour ("2.5"); accounts:
// names joined by commas; max_time: as --time takes it ("4:00:00", "2-00", UNLIMITED). Errors
// name the flag: "--max-time=soon: not a duration (MIN, HH:MM:SS, D-HH...)".
Result<ProviderTerms> ParseProviderTerms(std::string_view min_price, std::string_view accounts,
                                         std::string_view max_time);

}  // namespace corral
