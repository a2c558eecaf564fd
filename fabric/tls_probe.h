// A bare TLS handshake with corrald, checking nothing, to learn what it presents: the
// certificate chain (leaf first, then the cluster CA) and the TLS version agreed. corral-node
// uses it at attach to fetch the CA, which it then trusts only if it matches the pin in the
// join token; tests use it to check that the port speaks TLS 1.3 with the cluster's certificate.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace corral {

struct TlsPeer {
  std::string version;             // e.g. "TLSv1.3"
  std::vector<std::string> chain;  // PEM, as sent
};

// Unavailable when nothing answers at "host:port" within timeout_ms, or the handshake fails.
// With `tls12_only`, offers TLS 1.2 and nothing newer (tests check that corrald refuses it).
Result<TlsPeer> ProbeTls(const std::string& host_port, int timeout_ms, bool tls12_only = false);

}  // namespace corral
