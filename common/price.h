// Prices as the CLI and corral-node take them: credits per GPU-hour written as a decimal
// ("2.5", "0.035"), held as int64 micro-units (DESIGN.md: money is never floating point).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace corral {

inline constexpr int64_t kMicroPerCredit = 1000000;
// The largest price taken: a million credits per GPU-hour.
inline constexpr int64_t kMaxPriceMicro = 1000000 * kMicroPerCredit;

// Digits with at most six after the point; no sign, exponent or blanks. `field` names the
// option in the error ("--max-price=abc: not a price (credits per GPU-hour, e.g. 2.5)").
Result<int64_t> ParsePrice(std::string_view field, std::string_view text);
// "h100=2.5" (corrald --gpu-price): a GPU model, lower-cased, and its rate per GPU-hour. The
// model is 1 to 64 characters of letters, digits, '-', '_' and '.'.
Result<std::pair<std::string, int64_t>> ParseModelPrice(std::string_view field,
                                                        std::string_view text);
// "2.5", "0.035", "3": the shortest decimal that is exact.
std::string FormatPrice(int64_t micro);

}  // namespace corral
