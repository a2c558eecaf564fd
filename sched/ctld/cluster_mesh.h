// corrald's part of the overlay mesh (fabric/nebula.h): the mesh's CA under STATE/nebula
// (made on first start; the key 0600), a lighthouse certificate and config made at each start,
// and the nebula process that is the lighthouse and the relay, kept running (nebula_process.h).
// At attach, a node's Nebula key is signed here with its overlay address and the group "node".
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "fabric/nebula_process.h"

namespace corral::ctld {

class ClusterMesh {
 public:
  // Starts the lighthouse on UDP `port`. Unavailable when nebula is not installed.
  static Result<std::unique_ptr<ClusterMesh>> Start(const std::string& state_dir, int port);
  int port() const { return port_; }
  const std::string& ca_pem() const { return ca_pem_; }
  // The certificate of node `name` at overlay address `ip` for the key `pub_pem` (nebula-cert's
  // "NEBULA X25519 PUBLIC KEY"). Invalid when that is not such a key.
  Result<std::string> Sign(const std::string& name, const std::string& ip,
                           const std::string& pub_pem) const;

 private:
  std::string dir_;
  int port_ = 0;
  std::string ca_pem_;
  mutable std::mutex mu_;  // one nebula-cert at a time in dir_
  std::unique_ptr<NebulaProcess> proc_;
};

}  // namespace corral::ctld
