#include "common/price.h"

#include "common/digits.h"

namespace corral {

Result<int64_t> ParsePrice(std::string_view field, std::string_view text) {
  auto bad = [&](const char* why) {
    return Status::Invalid(std::string(field) + "=" + std::string(text.substr(0, 40)) + ": " + why);
  };
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() && frac.empty()) return bad("not a price (credits per GPU-hour, e.g. 2.5)");
  if (frac.size() > 6) return bad("at most six digits after the point");
  uint64_t w = 0, f = 0;
  if (!whole.empty() && ParseDigits(whole, &w) != DigitsParse::kOk) {
    return bad("not a price (credits per GPU-hour, e.g. 2.5)");
  }
  if (!frac.empty() && ParseDigits(frac, &f) != DigitsParse::kOk) {
    return bad("not a price (credits per GPU-hour, e.g. 2.5)");
  }
  if (w > static_cast<uint64_t>(kMaxPriceMicro / kMicroPerCredit)) {
    return bad("at most 1000000 credits per GPU-hour");
  }
  for (size_t i = frac.size(); i < 6; ++i) f *= 10;
  const int64_t micro = static_cast<int64_t>(w) * kMicroPerCredit + static_cast<int64_t>(f);
  if (micro > kMaxPriceMicro) return bad("at most 1000000 credits per GPU-hour");
  return micro;
}

Result<std::pair<std::string, int64_t>> ParseModelPrice(std::string_view field,
                                                        std::string_view text) {
  const size_t eq = text.find('=');
  const std::string_view model = text.substr(0, eq);
  auto bad = [&](const std::string& why) {
    return Status::Invalid(std::string(field) + "=" + std::string(text.substr(0, 80)) + ": " + why);
  };
  if (eq == std::string_view::npos) return bad("give MODEL=CREDITS, e.g. h100=2.5");
  if (model.empty() || model.size() > 64) return bad("the GPU model is 1 to 64 characters");
  std::string lower;
  for (char ch : model) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    if (!ok) return bad("the GPU model takes letters, digits, '-', '_' and '.'");
    lower += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  Result<int64_t> p = ParsePrice(field, text.substr(eq + 1));
  if (!p.ok()) return p.status();
  return std::pair{lower, *p};
}

std::string FormatPrice(int64_t micro) {
  std::string sign = micro < 0 ? "-" : "";
  const uint64_t m = micro < 0 ? 0 - static_cast<uint64_t>(micro) : static_cast<uint64_t>(micro);
  std::string out = sign + std::to_string(m / kMicroPerCredit);
  uint64_t frac = m % kMicroPerCredit;
  if (frac == 0) return out;
  std::string digits = std::to_string(frac);
  digits.insert(0, 6 - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

}  // namespace corral
