// A node's part of the overlay mesh (fabric/nebula.h): the grant corrald gave at attach, kept
// beside the node's identity (STATE/identity/mesh-ca.crt, mesh.crt, mesh.key, mesh.grant),
// made into a nebula config whose lighthouse and relay is the controller's host, and a nebula
// process kept running for as long as the agent runs. Needs root, for its tun device.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/status.h"
#include "fabric/nebula.h"
#include "fabric/nebula_process.h"

namespace corral {

struct NodeMesh {
  std::string ip;       // this node's overlay address
  std::string tun_dev;  // its tun device (UCX_NET_DEVICES)
  // The MPI transport of jobs here: "ucx" when UCX's tcp transport has the tun device (checked
  // with ucx_info at start), else "ob1", with the reason in mpi_why (logged).
  std::string mpi_pml = "ob1";
  std::string mpi_why;
  NebulaSettings settings;
  std::string config;  // the file nebula reads
  std::unique_ptr<NebulaProcess> proc;
  // Lets in these overlay addresses (the nodes of the jobs running here) and no others: the
  // config is rewritten and nebula reloads it (SIGHUP). Thread-safe.
  Status AllowPeers(const std::set<std::string>& ips);

 private:
  std::mutex mu_;
};

// Whether `ucx_info -d` output lists `dev` under UCX's tcp transport.
bool UcxTcpHasDevice(const std::string& ucx_info_d, const std::string& dev);

// Ok when this process can run nebula here (root, /dev/net/tun, Debian's nebula); else why not.
Status CanRunMesh();

// Starts nebula for the grant kept in `identity_dir`; the lighthouse is on the host of
// `controller` (HOST:PORT). Null when the identity has no grant.
Result<std::unique_ptr<NodeMesh>> StartNodeMesh(const std::string& identity_dir,
                                                const std::string& controller,
                                                const std::string& name);

}  // namespace corral
