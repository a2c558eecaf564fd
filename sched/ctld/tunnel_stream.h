// Controller.Tunnel on gRPC's callback API: `corral attach` (a shell) and `corral forward` (a
// loopback port) on a node of a running job, relayed over that node's own link, so the node
// accepts no inbound connection. The client's first frame opens the tunnel; corrald checks who
// may, and relays the frames both ways (setting the tunnel's id towards the node), cutting a
// tunnel whose either end overruns its flow-control window (fabric/tunnel_window.h). A client
// that goes away closes its tunnel on the node; a node that goes away ends it with an error.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>

#include "common/status.h"
#include "fabric/proto/corral.grpc.pb.h"
#include "sched/ctld/controller.h"
#include "sched/ctld/open_calls.h"
#include "sched/ctld/step_router.h"

namespace corral::ctld {

class TunnelStream;

// What a client's opening frame may ask for, or why not (naming the field).
Status CheckTunnelOpen(const v1::TunnelFrame& f);

class TunnelStreams {
 public:
  TunnelStreams(Controller* c, TunnelRouter* r) : ctl_(c), router_(r) {}
  // The reactor for one Tunnel call; it deletes itself when the call is done. With only_user,
  // a job of anyone else's is refused (PermissionDenied).
  grpc::ServerBidiReactor<v1::TunnelFrame, v1::TunnelFrame>* Start(const std::string& only_user);
  // The controller is stopping: ends every call with UNAVAILABLE (`why`) and closes its tunnel.
  void EndAll(const std::string& why);
  // Blocks until every call has ended (after the server's Shutdown, before the router goes).
  void WaitForStreams() { calls_.WaitForNone(); }

 private:
  friend class TunnelStream;  // one call, in tunnel_stream.cc
  Controller* ctl_;
  TunnelRouter* router_;
  OpenCalls<TunnelStream> calls_;
};

}  // namespace corral::ctld
