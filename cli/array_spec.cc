#include "cli/array_spec.h"

#include <algorithm>
#include <charconv>

namespace corral {

namespace {

Status Bad(std::string_view option, const std::string& value, const std::string& why) {
  std::string shown = value.size() > 80 ? value.substr(0, 80) + "..." : value;
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return Status::Invalid(std::string(option) + ": \"" + shown + "\": " + why);
}

// A non-negative decimal with no sign, spaces or trailing text; false when out of [0, max].
bool Number(std::string_view s, int64_t max, int64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

Result<ArraySpec> ParseArraySpec(std::string_view option, const std::string& value) {
  ArraySpec spec;
  std::string_view body = value;
  if (size_t pct = body.find('%'); pct != std::string_view::npos) {
    int64_t t = 0;
    if (!Number(body.substr(pct + 1), 1000000, &t) || t < 1) {
      return Bad(option, value, "the limit after % must be a positive integer");
    }
    spec.throttle = static_cast<int32_t>(t);
    body = body.substr(0, pct);
  }
  if (body.empty()) return Bad(option, value, "no indices");
  std::vector<int32_t> idx;
  while (!body.empty()) {
    size_t comma = body.find(',');
    std::string_view part = body.substr(0, comma);
    body = comma == std::string_view::npos ? std::string_view() : body.substr(comma + 1);
    if (comma != std::string_view::npos && body.empty())
      return Bad(option, value, "trailing comma");
    int64_t step = 1;
    if (size_t colon = part.find(':'); colon != std::string_view::npos) {
      if (!Number(part.substr(colon + 1), kMaxArrayIndex, &step) || step < 1) {
        return Bad(option, value, "the step after : must be a positive integer");
      }
      part = part.substr(0, colon);
    }
    size_t dash = part.find('-');
    int64_t a = 0, b = 0;
    if (!Number(part.substr(0, dash), kMaxArrayIndex, &a) ||
        !Number(dash == std::string_view::npos ? part : part.substr(dash + 1), kMaxArrayIndex,
                &b)) {
      return Bad(option, value,
                 "indices must be integers from 0 to " + std::to_string(kMaxArrayIndex));
    }
    if (b < a) return Bad(option, value, "the range " + std::string(part) + " runs backwards");
    if ((b - a) / step + 1 + idx.size() > kMaxArrayTasks) {
      return Bad(option, value,
                 "more than " + std::to_string(kMaxArrayTasks) + " tasks in one array");
    }
    for (int64_t i = a; i <= b; i += step) idx.push_back(static_cast<int32_t>(i));
  }
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  spec.indices = std::move(idx);
  return spec;
}

Result<std::vector<JobSpec::Dependency>> ParseDependencies(std::string_view option,
                                                           const std::string& value, bool* any) {
  std::vector<JobSpec::Dependency> out;
  if (value.empty()) return Bad(option, value, "empty");
  bool commas = value.find(',') != std::string::npos, marks = value.find('?') != std::string::npos;
  if (commas && marks) {
    return Bad(option, value, "use ',' (all of them) or '?' (any of them), not both");
  }
  const char sep = marks ? '?' : ',';
  if (any) *any = marks;
  std::string_view rest = value;
  while (!rest.empty()) {
    size_t cut = rest.find(sep);
    std::string_view item = rest.substr(0, cut);
    rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
    if (item.empty() || (cut != std::string_view::npos && rest.empty())) {
      return Bad(option, value, std::string("an empty item between '") + sep + "'s");
    }
    if (item == "singleton") {
      out.push_back({"singleton", 0});
      continue;
    }
    size_t colon = item.find(':');
    std::string type = "afterany";
    std::string_view ids = item;
    if (colon != std::string_view::npos) {
      type = std::string(item.substr(0, colon));
      ids = item.substr(colon + 1);
    }
    if (type != "after" && type != "afterok" && type != "afternotok" && type != "afterany" &&
        type != "aftercorr") {
      return Bad(option, value,
                 "unknown type \"" + type.substr(0, 20) +
                     "\" (use after, afterok, afternotok, afterany, aftercorr or singleton)");
    }
    if (ids.empty()) return Bad(option, value, "no job id after " + type);
    while (!ids.empty()) {
      size_t c = ids.find(':');
      int64_t id = 0;
      if (!Number(ids.substr(0, c), int64_t(1) << 53, &id) || id < 1) {
        return Bad(option, value, "job ids must be positive integers");
      }
      out.push_back({type, id});
      if (out.size() > 1000) return Bad(option, value, "more than 1000 dependencies");
      ids = c == std::string_view::npos ? std::string_view() : ids.substr(c + 1);
    }
  }
  return out;
}

}  // namespace corral
