#include "common/node.h"

#include <cctype>

namespace corral {

int32_t NodeProfile::GpuCount(const std::string& model) const {
  int32_t n = 0;
  for (const auto& g : gpus) {
    if (model.empty() || g.model == model) ++n;
  }
  return n;
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
