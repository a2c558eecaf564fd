// corral-node's agent: dials corrald (outbound only), registers the node profile, heartbeats,
// runs batch scripts and steps, and reports their ends. Reconnects after a controller restart
// and re-sends finishes the controller has not acknowledged. See docs/protocol.md.
#pragma once

#include <memory>
#include <string>

#include "common/node.h"
#include "common/status.h"

namespace corral {

struct AgentOptions {
  std::string controller;  // host:port
  NodeProfile profile;
  std::string spool_dir;     // per-job scripts and host files
  std::string bin_dir;       // where corral, corral-rsh live (put on the jobs' PATH)
  bool shared_host = false;  // several simulated nodes share this host: MPI settings for that
  int kill_grace_ms = 2000;
};

class NodeAgent {
 public:
  explicit NodeAgent(AgentOptions opts);
  ~NodeAgent();
  // Runs until Stop(); reconnecting as needed.
  void Run();
  // Asks Run() to return; kills running jobs.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral
