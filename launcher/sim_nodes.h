// corral-node --simulate N: N simulated nodes in one process, so that one machine can hold a
// cluster of thousands of nodes for tests and benchmarks. Each node has a stream of its own to
// corrald (gRPC's callback API: no thread per node), registers a copy of one profile named
// PREFIX1 .. PREFIXN, heartbeats, and answers a GPU check on the CPU twin (corrald must accept
// simulated GPUs). Its jobs run nothing: a batch job ends COMPLETED after its run time (the
// job's CORRAL_SIM_RUNTIME, in seconds, from its environment; else `runtime_ms`), TIMEOUT at its
// time limit when that comes first, CANCELLED when cancelled. A step exits 0 at once, printing
// nothing. A lost stream is dialled again, and the registration names the jobs still running
// and the ends not yet acknowledged, as a real node's does.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/node.h"
#include "common/status.h"
#include "fabric/credentials.h"

namespace corral {

struct SimOptions {
  std::string controller;  // host:port
  NodeProfile profile;     // each node's, renamed
  std::string prefix;      // node names: prefix + 1 .. prefix + count
  int count = 1;           // 1 .. 100000
  int64_t runtime_ms = 1000;
  Credentials creds;  // the fleet's identity (identity.h), attached for `count` nodes
};

// Runs the nodes until *stop is set. Invalid for a count out of range or an empty prefix.
Status RunSimulatedNodes(const SimOptions& o, const std::atomic<bool>& stop);

}  // namespace corral
