#include "common/hostlist.h"

#include <cctype>
#include <map>

namespace corral {

namespace {

struct Split {
  std::string prefix;
  std::string digits;  // empty when the name has no numeric suffix
};

Split SplitName(const std::string& h) {
  size_t i = h.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(h[i - 1]))) --i;
  return {h.substr(0, i), h.substr(i)};
}

}  // namespace

std::string CompressHostlist(const std::vector<std::string>& hosts) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> by_prefix;  // prefix -> digit strings
  std::vector<std::string> plain;
  for (const auto& h : hosts) {
    Split s = SplitName(h);
    if (s.digits.empty() || s.digits.size() > 9) {
      order.push_back("\x01" + h);
      continue;
    }
    if (!by_prefix.count(s.prefix)) order.push_back(s.prefix);
    by_prefix[s.prefix].push_back(s.digits);
  }
  std::string out;
  for (const auto& key : order) {
    if (!out.empty()) out += ',';
    if (key[0] == '\x01') {
      out += key.substr(1);
      continue;
    }
    const auto& nums = by_prefix[key];
    if (nums.size() == 1) {
      out += key + nums[0];
      continue;
    }
    out += key + "[";
    size_t i = 0;
    bool first = true;
    while (i < nums.size()) {
      size_t j = i;
      while (j + 1 < nums.size() && nums[j + 1].size() == nums[i].size() &&
             std::stol(nums[j + 1]) == std::stol(nums[j]) + 1)
        ++j;
      if (!first) out += ',';
      first = false;
      out += nums[i];
      if (j > i) out += "-" + nums[j];
      i = j + 1;
    }
    out += "]";
  }
  return out;
}

Result<std::vector<std::string>> ExpandHostlist(const std::string& list) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < list.size()) {
    size_t lb = list.find_first_of("[,", i);
    if (lb == std::string::npos || list[lb] == ',') {
      size_t end = lb == std::string::npos ? list.size() : lb;
      if (end > i) out.push_back(list.substr(i, end - i));
      i = end + 1;
      continue;
    }
    std::string prefix = list.substr(i, lb - i);
    size_t rb = list.find(']', lb);
    if (rb == std::string::npos) return Status::Invalid("hostlist '" + list + "': missing ']'");
    std::string body = list.substr(lb + 1, rb - lb - 1);
    size_t p = 0;
    while (p <= body.size()) {
      size_t c = body.find(',', p);
      std::string part = body.substr(p, c == std::string::npos ? std::string::npos : c - p);
      size_t dash = part.find('-');
      std::string a = part.substr(0, dash),
                  b = dash == std::string::npos ? a : part.substr(dash + 1);
      auto digits = [](const std::string& s) {
        if (s.empty() || s.size() > 9) return false;
        for (char ch : s)
          if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
        return true;
      };
      if (!digits(a) || !digits(b) || std::stol(b) < std::stol(a))
        return Status::Invalid("hostlist '" + list + "': bad range '" + part + "'");
      if (std::stol(b) - std::stol(a) > 100000)
        return Status::Invalid("hostlist '" + list + "': range '" + part + "' is too large");
      for (long n = std::stol(a); n <= std::stol(b); ++n) {
        std::string num = std::to_string(n);
        while (num.size() < a.size()) num = "0" + num;
        out.push_back(prefix + num);
      }
      if (c == std::string::npos) break;
      p = c + 1;
    }
    i = rb + 1;
    if (i < list.size() && list[i] == ',') ++i;
  }
  return out;
}

}  // namespace corral
