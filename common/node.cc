#include "common/node.h"

#include <cctype>

#include "common/price.h"

namespace corral {

int32_t NodeProfile::GpuCount(const std::string& model) const {
  int32_t n = 0;
  for (const auto& g : gpus) {
    if (GpuModelMatches(model, g.model)) ++n;
  }
  return n;
}

bool GpuModelMatches(std::string_view want, std::string_view have) {
  if (want.empty()) return true;
  while (true) {
    const size_t bar = want.find('|');
    if (want.substr(0, bar) == have && !have.empty()) return true;
    if (bar == std::string_view::npos) return false;
    want.remove_prefix(bar + 1);
  }
}

const char* NodeStateName(NodeState s) {
  switch (s) {
    case NodeState::kIdle:
      return "idle";
    case NodeState::kMixed:
      return "mixed";
    case NodeState::kAllocated:
      return "allocated";
    case NodeState::kDown:
      return "down";
    case NodeState::kVerifying:
      return "verifying";
    case NodeState::kFailed:
      return "fail";
    case NodeState::kDraining:
      return "draining";
    case NodeState::kDrained:
      return "drained";
    case NodeState::kUnverified:
      return "unverified";
  }
  return "?";
}

std::string CheckTerms(const ProviderTerms& t) {
  if (t.min_price_micro < 0 || t.min_price_micro > kMaxPriceMicro) {
    return "--min-price: must be 0 to 1000000 credits per GPU-hour";
  }
  if (t.accounts.size() > 256) return "--accounts: at most 256 accounts";
  for (const std::string& a : t.accounts) {
    if (a.empty() || a.size() > 64) return "--accounts: an account name is 1 to 64 characters";
    for (char ch : a) {
      if (static_cast<unsigned char>(ch) <= 0x20 || ch == ',' || ch == 0x7f) {
        return "--accounts: \"" + a + "\": blanks, commas and control characters are not allowed";
      }
    }
  }
  if (t.max_time_ms < 0) return "--max-time: must not be negative";
  return "";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace corral
