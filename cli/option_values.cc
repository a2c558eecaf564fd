#include "cli/option_values.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/digits.h"
#include "common/duration.h"

namespace corral {
namespace option_values {
namespace {

using Num = DigitsParse;

constexpr uint64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr uint64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsVarName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Messages

// `s` made safe to print: control and non-ASCII bytes become \xNN, and with `quoted` the double
// quote and the backslash get a backslash; text past max_len is cut and marked with "...".
std::string Printable(std::string_view s, size_t max_len, bool quoted) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const size_t n = std::min(s.size(), max_len);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      if (quoted && (c == '"' || c == '\\')) out += '\\';
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max_len) out += "...";
  return out;
}

std::string Quote(std::string_view s) {
  return "\"" + Printable(s, 64, true) + "\"";
}

// "<option>: "<value>" <reason>", e.g. `--nodes: "-2" is not a positive integer`.
Status BadValue(std::string_view option, std::string_view value, std::string_view reason) {
  return Status::Invalid(std::string(option) + ": " + Quote(value) + " " + std::string(reason));
}

// ---------------------------------------------------------------------------------------------
// Values

Result<int32_t> ParseCount(std::string_view option, const std::string& value, int32_t min) {
  const char* what = min > 0 ? "is not a positive integer" : "is not a non-negative integer";
  uint64_t n = 0;
  const Num r = ParseDigits(value, &n);
  if (r == Num::kSyntax) return BadValue(option, value, what);
  if (r == Num::kOverflow || n > kInt32Max) {
    return BadValue(option, value, "is too large (at most 2147483647)");
  }
  if (n < static_cast<uint64_t>(min)) return BadValue(option, value, what);
  return static_cast<int32_t>(n);
}

Result<int64_t> ParseMemFor(std::string_view option, const std::string& value) {
  static constexpr const char* kWhat =
      "is not a memory size (a number with an optional K, M, G or T suffix, e.g. 4G; "
      "no suffix means M)";
  const std::string_view v(value);
  const size_t end = v.find_first_not_of("0123456789");
  const std::string_view digits = v.substr(0, end);
  const std::string_view suffix = end == std::string_view::npos ? "" : v.substr(end);
  if (suffix.size() > 1) return BadValue(option, value, kWhat);
  uint64_t n = 0;
  const Num r = ParseDigits(digits, &n);
  if (r == Num::kSyntax) return BadValue(option, value, kWhat);
  if (r == Num::kOverflow) return BadValue(option, value, "is too large");
  uint64_t mib = 0;
  const char unit = suffix.empty() ? 'M' : suffix[0];
  switch (unit) {
    case 'K':
    case 'k':
      mib = n / 1024 + (n % 1024 != 0 ? 1 : 0);
      break;
    case 'M':
    case 'm':
      mib = n;
      break;
    case 'G':
    case 'g':
      if (__builtin_mul_overflow(n, uint64_t{1024}, &mib)) mib = kInt64Max + 1;
      break;
    case 'T':
    case 't':
      if (__builtin_mul_overflow(n, uint64_t{1024} * 1024, &mib)) mib = kInt64Max + 1;
      break;
    default:
      return BadValue(option, value, kWhat);
  }
  if (mib > kInt64Max) return BadValue(option, value, "is too large");
  if (mib == 0) return BadValue(option, value, "must be greater than 0");
  return static_cast<int64_t>(mib);
}

Result<int64_t> ParseTimeFor(std::string_view option, const std::string& value) {
  static constexpr const char* kWhat =
      "is not a time limit (use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or "
      "UNLIMITED)";
  int64_t ms = 0;
  switch (ParseDurationMs(value, &ms)) {
    case DurationParse::kOk:
      return ms;
    case DurationParse::kTooLarge:
      return BadValue(option, value, "is too large");
    case DurationParse::kSyntax:
      break;
  }
  return BadValue(option, value, kWhat);
}

Status ParseGpuFor(std::string_view option, const std::string& value, std::string* model,
                   int32_t* count, int32_t* milli) {
  static constexpr const char* kWhat = "is not a GPU request ([model:]count, e.g. h100:2 or 4)";
  std::string m;
  std::string_view count_text(value);
  const size_t colon = value.find(':');
  if (colon != std::string::npos) {
    m = AsciiLower(std::string_view(value).substr(0, colon));
    count_text.remove_prefix(colon + 1);
    if (m.empty() || count_text.find(':') != std::string_view::npos) {
      return BadValue(option, value, kWhat);
    }
    for (char c : m) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                      c == '.' || c == '|';
      if (!ok) {
        return BadValue(option, value,
                        "has an invalid GPU model (letters, digits, '_', '-' and '.' only, "
                        "alternatives joined by '|')");
      }
    }
    if (m.front() == '|' || m.back() == '|' || m.find("||") != std::string::npos) {
      return BadValue(option, value, "has an empty GPU model alternative (write a100|h100:2)");
    }
  }
  if (count_text.find('.') != std::string_view::npos) {
    if (!milli) return BadValue(option, value, "asks for a share of a GPU: only --gpus takes one");
    // 0.N with one to three decimals: a share of one GPU in thousandths.
    std::string_view frac = count_text;
    if (frac.starts_with("0")) frac.remove_prefix(1);
    int32_t share = 0, digits = 0;
    bool ok = frac.size() >= 2 && frac.size() <= 4 && frac.front() == '.';
    for (size_t i = 1; ok && i < frac.size(); ++i) {
      ok = frac[i] >= '0' && frac[i] <= '9';
      share = share * 10 + (frac[i] - '0'), ++digits;
    }
    if (!ok) {
      return BadValue(option, value,
                      "is not a share of a GPU (0.001 to 0.999, at most three decimals)");
    }
    for (; digits < 3; ++digits) share *= 10;
    if (share == 0) return BadValue(option, value, "is no share of a GPU (0.001 at least)");
    *model = std::move(m);
    *count = 1;
    *milli = share;
    return Status::Ok();
  }
  uint64_t n = 0;
  const Num r = ParseDigits(count_text, &n);
  if (r == Num::kSyntax) return BadValue(option, value, kWhat);
  if (r == Num::kOverflow || n > kInt32Max) {
    return BadValue(option, value, "is too large (at most 2147483647 GPUs)");
  }
  if (n == 0) m.clear();
  *model = std::move(m);
  *count = static_cast<int32_t>(n);
  if (milli) *milli = 0;
  return Status::Ok();
}

// Non-empty and free of control characters (names and paths end up in files and terminals).
Status CheckText(std::string_view option, const std::string& value) {
  if (value.empty()) return Status::Invalid(std::string(option) + ": the value is empty");
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return BadValue(option, value, "contains a control character");
  }
  return Status::Ok();
}

Result<ExportSpec> ParseExport(std::string_view option, const std::string& value) {
  ExportSpec spec;
  if (value.empty()) return Status::Invalid(std::string(option) + ": the value is empty");
  if (value.find('\0') != std::string::npos) {
    return BadValue(option, value, "contains a NUL byte");
  }
  if (AsciiLower(value) == "all") return ExportSpec{true, {}};
  if (AsciiLower(value) == "none") return ExportSpec{false, {}};
  std::string_view rest(value);
  bool first = true;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const std::string lower = item.size() <= 4 ? AsciiLower(item) : std::string();
    if (lower == "all") {
      if (!first) {
        return BadValue(option, value, "has ALL after other entries; ALL must come first");
      }
      spec.all = true;
    } else if (lower == "none") {
      return BadValue(option, value, "combines NONE with other entries; list only the variables");
    } else if (item.empty()) {
      return BadValue(option, value, "has an empty entry");
    } else {
      const size_t eq = item.find('=');
      const std::string_view name = item.substr(0, eq);
      if (!IsVarName(name)) {
        return Status::Invalid(std::string(option) + ": " + Quote(name) +
                               " is not a variable name (letters, digits and '_')");
      }
      std::optional<std::string> val;
      if (eq != std::string_view::npos) val = std::string(item.substr(eq + 1));
      spec.vars.emplace_back(std::string(name), std::move(val));
    }
    first = false;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return spec;
}

std::vector<std::pair<std::string, std::string>> BuildEnv(
    const ExportSpec& spec, const std::vector<std::pair<std::string, std::string>>& environ) {
  std::vector<std::pair<std::string, std::string>> env;
  std::unordered_map<std::string, size_t> index;  // name -> position in env
  auto set = [&](const std::string& name, const std::string& value) {
    auto [it, inserted] = index.emplace(name, env.size());
    if (inserted) {
      env.emplace_back(name, value);
    } else {
      env[it->second].second = value;
    }
  };
  std::unordered_map<std::string, const std::string*> from;  // last definition wins
  for (const auto& [name, value] : environ) from[name] = &value;
  if (spec.all) {
    for (const auto& [name, value] : environ) set(name, value);
  }
  for (const auto& [name, value] : spec.vars) {
    if (value) {
      set(name, *value);
    } else if (auto it = from.find(name); it != from.end()) {
      set(name, *it->second);
    }  // a listed name that is not set is skipped, as in Slurm
  }
  return env;
}

// --signal=[B:]SIG[@SECS], as sbatch takes it: SIG by name (with or without SIG) or number.
Status ParseSignalFor(std::string_view option, const std::string& value, JobSpec* spec) {
  std::string v = value;
  bool batch = false;
  if (v.rfind("B:", 0) == 0) {
    batch = true;
    v = v.substr(2);
  }
  int32_t secs = 60;
  if (size_t at = v.find('@'); at != std::string::npos) {
    Result<int32_t> n = ParseCount(option, v.substr(at + 1), 0);
    if (!n.ok()) return n.status();
    if (*n > 65535) return BadValue(option, value, "SECS must be at most 65535");
    secs = *n;
    v = v.substr(0, at);
  }
  static const std::pair<const char*, int> kNames[] = {
      {"HUP", 1},   {"INT", 2},   {"QUIT", 3},    {"ABRT", 6},  {"KILL", 9},
      {"USR1", 10}, {"SEGV", 11}, {"USR2", 12},   {"PIPE", 13}, {"ALRM", 14},
      {"TERM", 15}, {"CONT", 18}, {"STOP", 19},   {"TSTP", 20}, {"URG", 23},
      {"XCPU", 24}, {"XFSZ", 25}, {"VTALRM", 26}, {"PROF", 27}, {"WINCH", 28}};
  std::string name = v.rfind("SIG", 0) == 0 ? v.substr(3) : v;
  int sig = 0;
  for (const auto& [n, num] : kNames) {
    if (name == n) sig = num;
  }
  if (sig == 0 && !name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
      name.size() <= 2) {
    sig = std::stoi(name);
  }
  if (sig <= 0 || sig > 64) {
    return BadValue(option, value, "is not [B:]SIG[@SECS] with SIG a signal name or number 1-64");
  }
  spec->signal = sig;
  spec->signal_secs = secs;
  spec->signal_batch_only = batch;
  return Status::Ok();
}

}  // namespace option_values

Status ParseGpuRequest(const std::string& value, std::string* model, int32_t* count) {
  return option_values::ParseGpuFor("--gpus", value, model, count);
}

Result<int64_t> ParseMemMib(const std::string& value) {
  return option_values::ParseMemFor("--mem", value);
}

Result<int64_t> ParseTimeLimitMs(const std::string& value) {
  return option_values::ParseTimeFor("--time", value);
}

}  // namespace corral
