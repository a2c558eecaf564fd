#include "cli/admin_common.h"

#include <ctime>
#include <iostream>

#include "common/duration.h"
#include "common/hostlist.h"

namespace corral::cli {

std::optional<std::string> AdminOperation(const std::string& object,
                                          const std::vector<std::string>& words) {
  if (words.empty()) {
    std::cerr << "corral admin " << object << ": give an operation: list, add, modify or remove\n";
    return std::nullopt;
  }
  const std::string& op = words[0];
  if (op == "list") {
    if (words.size() == 1) return op;
    std::cerr << "corral admin " << object << " list: takes no name\n";
    return std::nullopt;
  }
  if (op != "add" && op != "modify" && op != "remove") {
    std::cerr << "corral admin " << object << ": unknown operation \"" << op.substr(0, 32)
              << "\" (list, add, modify or remove)\n";
    return std::nullopt;
  }
  if (words.size() != 2) {
    std::cerr << "corral admin " << object << " " << op << ": give one " << object << " name\n";
    return std::nullopt;
  }
  return op;
}

const char* PastTense(const std::string& op) {
  return op == "add" ? "added" : op == "modify" ? "modified" : "removed";
}

bool SplitList(const std::string& cmd, const std::string& option, const std::string& list,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  auto names = ExpandHostlist(list);
  if (!names.ok()) {
    std::cerr << "corral " << cmd << ": " << option << ": " << names.status().message() << "\n";
    return false;
  }
  for (std::string& n : *names) *out->Add() = std::move(n);
  return true;
}

Result<TimeMs> ParseWhen(const std::string& option, const std::string& value, TimeMs now) {
  const std::string what = option + ": \"" + value.substr(0, 64) +
                           "\" is not a time (now, now+DURATION or YYYY-MM-DDTHH:MM[:SS] UTC)";
  if (value == "now") return now;
  if (value.rfind("now+", 0) == 0) {
    int64_t ms = 0;
    if (ParseDurationMs(value.substr(4), &ms) != DurationParse::kOk || ms <= 0) {
      return Status::Invalid(what);
    }
    return now + ms;
  }
  std::tm tm{};
  int y, mo, d, h, mi, s = 0;
  char tail = 0;
  int got =
      std::sscanf(value.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail);
  if (!((got == 5 && value.size() == 16) || (got == 6 && value.size() == 19))) {
    return Status::Invalid(what);
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || y < 1970 || h < 0 ||
      mi < 0 || s < 0) {
    return Status::Invalid(what);
  }
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
  tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
  time_t t = timegm(&tm);
  if (t < 0) return Status::Invalid(what);
  return static_cast<TimeMs>(t) * 1000;
}

}  // namespace corral::cli
