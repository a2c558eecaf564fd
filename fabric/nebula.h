// The overlay mesh that a job's ranks talk over: Nebula, from Debian's `nebula` and
// `nebula-cert` (PLATFORM.md "Nebula 1.6 as the overlay"). corrald is the mesh's CA, its
// lighthouse and its relay; each attached node gets a certificate with its overlay address
// (kOverlayCidr) and the group "node", and runs nebula itself (launcher/mesh.h). A host behind
// a NAT reaches the others through the relay. A node's firewall lets in only the nodes that
// share a running job with it (NebulaSettings::peers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace corral {

constexpr const char* kOverlayCidr = "100.64.0.0/10";
constexpr const char* kLighthouseIp = "100.64.0.1";  // corrald's
constexpr int kOverlayPrefix = 10;
constexpr int kDefaultOverlayPort = 4242;

// The overlay address of node number `n` (1, 2, ...): 100.64.0.1 + n, within kOverlayCidr.
// Empty past the range's end.
std::string OverlayIp(int64_t n);
// The n of OverlayIp(n), or 0 for an address that is not one.
int64_t OverlayIndex(const std::string& ip);

struct NebulaSettings {
  std::string ca, cert, key;        // files
  bool lighthouse = false;          // corrald's: lighthouse and relay, with no tun device
  int listen_port = 0;              // 0: any (a node's)
  std::string lighthouse_endpoint;  // a node's: HOST:PORT where the lighthouse listens
  std::string tun_dev;              // a node's tun device (at most 15 characters)
  int mtu = 1300;                   // at most the underlay's MTU less 92 for the relay's overhead
  // The overlay addresses let in (besides ICMP): the nodes that share a running job with this
  // one. Nothing else of the mesh reaches this node's ports.
  std::vector<std::string> peers;
};

// The config file nebula reads, in YAML.
std::string NebulaYaml(const NebulaSettings& s);

// Where the programs are, or Unavailable saying that Debian's nebula package is missing.
Result<std::string> NebulaProgram(const std::string& name);

// nebula-cert ca: DIR/ca.crt and DIR/ca.key (0600), valid ten years.
Status NebulaCa(const std::string& dir, const std::string& name);
// nebula-cert keygen: a key pair whose private half never leaves this host.
Status NebulaKeygen(const std::string& key_path, const std::string& pub_path);
// nebula-cert sign of `pub_pem` (or, with `key_path`, a new key written there) with the CA in
// `ca_dir`: the certificate, in PEM.
Result<std::string> NebulaSign(const std::string& ca_dir, const std::string& name,
                               const std::string& ip, const std::string& groups,
                               const std::string& pub_pem, const std::string& key_path = "");

}  // namespace corral
