// The PORTS argument of `corral forward`, as ssh -L takes it: REMOTE (the same port here),
// LOCAL:REMOTE, or ADDR:LOCAL:REMOTE with ADDR an IPv4 address or a bracketed IPv6 one (the
// default is 127.0.0.1: only this machine). LOCAL 0 picks a free port.
#pragma once

#include <string>

#include "common/status.h"

namespace corral::cli {

struct ForwardSpec {
  std::string bind = "127.0.0.1";
  bool ipv6 = false;
  int local = 0;
  int remote = 0;
};

// Or an error naming what is wrong.
Result<ForwardSpec> ParseForwardSpec(const std::string& s);

}  // namespace corral::cli
