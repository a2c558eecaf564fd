#include "common/node.h"

#include <cctype>

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
  }
  return "?";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace corral
