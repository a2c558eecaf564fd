// corrald's keys, under STATE/pki (0700): the cluster CA (ca.key 0600, ca.pem), the key that
// job tokens are MACed with (job.key 0600), both made on the first start and kept; and the
// server certificate (server.key, server.pem), signed again by the CA at every start for the
// names given. ca.pem is what clients and nodes trust (CORRAL_CA).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "fabric/pki.h"

namespace corral::ctld {

struct ClusterPki {
  pki::KeyCert ca;
  pki::KeyCert server;  // server.cert_pem is the chain: the server's, then the CA's
  std::string job_key;
  std::string ca_path;  // STATE/pki/ca.pem
  std::string ca_pin;   // the CA certificate's fingerprint (SHA-256 of its DER)
};

// `names`: host names and IP addresses the server certificate also carries (besides
// pki::kServerName, which clients check for).
// TLS 1.3 only on corrald's port. gRPC 1.51's C++ API has no minimum version, but every
// SSL_CTX that OpenSSL makes takes its configuration's system_default section: this writes one
// that allows TLS 1.3 alone (STATE-DIR/openssl-tls13.cnf) and points OPENSSL_CONF at it. Call
// before anything in the process uses OpenSSL.
Status RequireTls13(const std::string& state_dir);

Result<ClusterPki> LoadOrCreatePki(const std::string& state_dir,
                                   const std::vector<std::string>& names);

}  // namespace corral::ctld
