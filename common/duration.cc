#include "common/duration.h"

#include <limits>
#include <string>
#include <vector>

#include "common/digits.h"

namespace corral {

namespace {

bool Lower(std::string_view v, std::string_view word) {
  if (v.size() != word.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i] >= 'A' && v[i] <= 'Z' ? static_cast<char>(v[i] - 'A' + 'a') : v[i];
    if (c != word[i]) return false;
  }
  return true;
}

}  // namespace

DurationParse ParseDurationMs(std::string_view v, int64_t* ms_out) {
  if (Lower(v, "unlimited") || Lower(v, "infinite")) {
    *ms_out = 0;
    return DurationParse::kOk;
  }
  std::string_view days_text;
  const size_t dash = v.find('-');
  const bool has_days = dash != std::string_view::npos;
  if (has_days) {
    days_text = v.substr(0, dash);
    v.remove_prefix(dash + 1);
  }
  std::vector<std::string_view> fields;
  while (true) {
    if (fields.size() == 3) return DurationParse::kSyntax;
    const size_t p = v.find(':');
    fields.push_back(v.substr(0, p));
    if (p == std::string_view::npos) break;
    v.remove_prefix(p + 1);
  }
  // Which unit each field has: with days "H", "H:M", "H:M:S"; without "M", "M:S", "H:M:S".
  static constexpr uint64_t kH = 3600, kM = 60, kS = 1;
  std::vector<uint64_t> units;
  if (has_days) {
    units = {kH, kM, kS};
    units.resize(fields.size());
  } else if (fields.size() == 1) {
    units = {kM};
  } else if (fields.size() == 2) {
    units = {kM, kS};
  } else {
    units = {kH, kM, kS};
  }
  uint64_t seconds = 0;
  bool overflow = false;
  auto add = [&](std::string_view text, uint64_t unit) -> bool {
    uint64_t n = 0;
    const DigitsParse r = ParseDigits(text, &n);
    if (r == DigitsParse::kSyntax) return false;
    uint64_t part = 0;
    if (r == DigitsParse::kOverflow || __builtin_mul_overflow(n, unit, &part) ||
        __builtin_add_overflow(seconds, part, &seconds)) {
      overflow = true;
    }
    return true;
  };
  if (has_days && !add(days_text, 24 * kH)) return DurationParse::kSyntax;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!add(fields[i], units[i])) return DurationParse::kSyntax;
  }
  uint64_t ms = 0;
  if (overflow || __builtin_mul_overflow(seconds, uint64_t{1000}, &ms) ||
      ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return DurationParse::kTooLarge;
  }
  *ms_out = static_cast<int64_t>(ms);
  return DurationParse::kOk;
}

}  // namespace corral
