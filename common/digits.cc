#include "common/digits.h"

#include <charconv>
#include <system_error>

namespace corral {

DigitsParse ParseDigits(std::string_view s, uint64_t* out) {
  if (s.empty()) return DigitsParse::kSyntax;
  for (char c : s) {
    if (c < '0' || c > '9') return DigitsParse::kSyntax;
  }
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec == std::errc::result_out_of_range) return DigitsParse::kOverflow;
  return ec == std::errc() && ptr == s.data() + s.size() ? DigitsParse::kOk : DigitsParse::kSyntax;
}

}  // namespace corral
