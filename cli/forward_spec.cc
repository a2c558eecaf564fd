#include "cli/forward_spec.h"

#include <arpa/inet.h>

#include <vector>

namespace corral::cli {

namespace {

Result<int> Port(const std::string& s, const std::string& which, bool zero_ok) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) {
    return Status::Invalid(which + " port '" + s + "': not a number");
  }
  int p = std::stoi(s);
  if (p > 65535 || (p == 0 && !zero_ok)) {
    return Status::Invalid(which + " port " + s + ": must be " + (zero_ok ? "0" : "1") +
                           " to 65535");
  }
  return p;
}

}  // namespace

Result<ForwardSpec> ParseForwardSpec(const std::string& s) {
  ForwardSpec f;
  std::string rest = s;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Status::Invalid("'" + s + "': a bracketed address must be followed by :LOCAL:REMOTE");
    }
    f.bind = rest.substr(1, close - 1);
    f.ipv6 = true;
    in6_addr a{};
    if (inet_pton(AF_INET6, f.bind.c_str(), &a) != 1) {
      return Status::Invalid("address '" + f.bind + "': not an IPv6 address");
    }
    rest = rest.substr(close + 2);
    size_t colon = rest.find(':');
    if (colon == std::string::npos) {
      return Status::Invalid("'" + s + "': give ADDR:LOCAL:REMOTE");
    }
    auto local = Port(rest.substr(0, colon), "local", true);
    if (!local.ok()) return local.status();
    auto remote = Port(rest.substr(colon + 1), "remote", false);
    if (!remote.ok()) return remote.status();
    f.local = *local;
    f.remote = *remote;
    return f;
  }
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t colon = rest.find(':', start);
    parts.push_back(rest.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) {
    return Status::Invalid("'" + s + "': give REMOTE, LOCAL:REMOTE or ADDR:LOCAL:REMOTE");
  }
  auto remote = Port(parts.back(), "remote", false);
  if (!remote.ok()) return remote.status();
  f.remote = *remote;
  f.local = f.remote;
  if (parts.size() >= 2) {
    auto local = Port(parts[parts.size() - 2], "local", true);
    if (!local.ok()) return local.status();
    f.local = *local;
  }
  if (parts.size() == 3) {
    f.bind = parts[0];
    in_addr a{};
    if (inet_pton(AF_INET, f.bind.c_str(), &a) != 1) {
      return Status::Invalid("address '" + f.bind +
                             "': not an IPv4 address (put an IPv6 one in brackets)");
    }
  }
  return f;
}

}  // namespace corral::cli
