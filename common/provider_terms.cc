#include "common/provider_terms.h"

#include <string>

#include "common/duration.h"
#include "common/price.h"

namespace corral {

Result<ProviderTerms> ParseProviderTerms(std::string_view min_price, std::string_view accounts,
                                         std::string_view max_time) {
  ProviderTerms t;
  if (!min_price.empty()) {
    Result<int64_t> p = ParsePrice("--min-price", min_price);
    if (!p.ok()) return p.status();
    t.min_price_micro = *p;
  }
  if (!accounts.empty()) {
    for (size_t from = 0; from <= accounts.size();) {
      size_t comma = accounts.find(',', from);
      if (comma == std::string_view::npos) comma = accounts.size();
      t.accounts.emplace_back(accounts.substr(from, comma - from));
      from = comma + 1;
    }
  }
  if (!max_time.empty()) {
    int64_t ms = 0;
    switch (ParseDurationMs(max_time, &ms)) {
      case DurationParse::kOk:
        break;
      case DurationParse::kSyntax:
        return Status::Invalid("--max-time=" + std::string(max_time.substr(0, 40)) +
                               ": not a duration (MIN, HH:MM:SS, D-HH[:MM[:SS]] or UNLIMITED)");
      case DurationParse::kTooLarge:
        return Status::Invalid("--max-time=" + std::string(max_time.substr(0, 40)) + ": too large");
    }
    t.max_time_ms = ms;
  }
  if (std::string why = CheckTerms(t); !why.empty()) return Status::Invalid(why);
  return t;
}

}  // namespace corral
