// The cluster's keys and certificates, with OpenSSL: the cluster CA that corrald makes on its
// first start, the server certificate it serves TLS with, and the node certificates it signs at
// attach from a node's CSR (the node's key never leaves the node). Also the digests and random
// secrets that tokens use. Everything is PEM text in and out; errors name what was wrong.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace corral::pki {

// Every server certificate carries this DNS name, and clients check for it (gRPC's target name
// override): trust comes from the cluster's own CA, so a controller is reachable under any
// address. Node certificates carry a URI name instead, and only the clientAuth purpose, so a
// node's certificate never passes for the controller's.
inline constexpr const char* kServerName = "corrald";

struct KeyCert {
  std::string key_pem, cert_pem;
};

// A new EC P-256 private key (PKCS#8 PEM).
Result<std::string> NewKey();
// A self-signed CA certificate for `name`, valid `days`.
Result<KeyCert> NewCa(const std::string& name, int days);

struct Leaf {
  std::string common_name;
  bool server = false;                // serverAuth with DNS kServerName and `dns`, `ips`
  std::vector<std::string> dns, ips;  // extra names of a server certificate
  std::string uri;                    // a client certificate's URI name
  int64_t days = 365;
};
// Signs `public_key_pem` (e.g. from CsrPublicKey) with the CA: an X.509 v3 leaf certificate.
Result<std::string> Issue(const KeyCert& ca, const std::string& public_key_pem, const Leaf& leaf);
// A new key's certificate (e.g. corrald's server certificate): key and certificate.
Result<KeyCert> IssueNew(const KeyCert& ca, const Leaf& leaf);

// A certificate signing request for `key_pem`.
Result<std::string> NewCsr(const std::string& key_pem, const std::string& common_name);
// The public key of a CSR whose signature checks out (proof that its sender holds the key).
Result<std::string> CsrPublicKey(const std::string& csr_pem);

struct CertInfo {
  std::string common_name;
  std::string fingerprint;  // SHA-256 of the DER, lower-case hex
  int64_t not_after_ms = 0;
};
Result<CertInfo> Inspect(const std::string& cert_pem);
// Ok when `cert_pem` was signed by the CA `ca_pem` and is within its validity.
Status VerifySignedBy(const std::string& ca_pem, const std::string& cert_pem);

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
// HMAC-SHA-256 of `data` under `key`, lower-case hex.
std::string HmacHex(std::string_view key, std::string_view data);
// `bytes` random bytes from OpenSSL's CSPRNG, lower-case hex.
std::string RandomHex(int bytes);
// Compares in time that depends only on the lengths.
bool SecretEqual(std::string_view a, std::string_view b);

}  // namespace corral::pki
