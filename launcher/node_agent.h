// corral-node's agent: dials corrald (outbound only), registers the node profile, heartbeats,
// runs batch scripts and steps, and reports their ends. Reconnects after a controller restart;
// its registration carries the finishes the controller has not acknowledged, also those from
// before a restart of corral-node itself (kept in the job journal), and the jobs such a restart
// lost. See docs/protocol.md.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "common/node.h"
#include "common/status.h"
#include "fabric/credentials.h"

namespace corral {

struct AgentOptions {
  std::string controller;  // host:port
  Credentials creds;       // the node's identity (identity.h); its CA is given to jobs too
  NodeProfile profile;
  std::string spool_dir;  // per-job scripts and host files
  // What must outlive this process: the job journal (launcher/journal.h). Empty: spool_dir/state.
  std::string state_dir;
  std::string bin_dir;       // where corral, corral-rsh live (put on the jobs' PATH)
  bool shared_host = false;  // several simulated nodes share this host: MPI settings for that
  // The PUs of each NUMA node (profile.h NumaCpus): a GPU job's part is given those of its GPUs'
  // NUMA nodes (cpu_bind.h), exported as CORRAL_CPU_BIND.
  std::vector<std::vector<int32_t>> numa_cpus;
  // Whether to bind the job's processes to them too: on this machine's own topology, alone on it.
  bool bind_cpus = false;
  int kill_grace_ms = 2000;
  // Contain each job in a cgroup with the memory and CPU limits of its request (cgroup.h), where
  // this machine lets the agent; without, jobs run uncontained (and a warning says why).
  bool contain = true;
  // When the agent runs as root, a job runs as its submitter's account here; when there is no
  // such account, as this one. Not root: jobs run as the agent's own user.
  std::string job_user = "nobody";
  int64_t sample_ms = 5000;  // how often a contained job's usage is sampled and sent
  // This node's tun device in the mesh (launcher/mesh.h), when profile.overlay_ip is set: the
  // jobs' MPI ranks talk over the mesh.
  std::string overlay_dev;
  std::string overlay_pml = "ob1";  // the MPI transport over it: "ucx" or "ob1" (mesh.h)
  // Called with the overlay addresses of the nodes that share a running job with this one,
  // whenever they change (launcher/mesh.h NodeMesh::AllowPeers); unset: no mesh.
  std::function<void(const std::set<std::string>&)> on_peers;
};

class NodeAgent {
 public:
  explicit NodeAgent(AgentOptions opts);
  ~NodeAgent();
  // Runs until Stop(); reconnecting as needed. Fails at once if the state directory cannot be
  // used.
  Status Run();
  // Asks Run() to return; kills running jobs.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral
