// The NodeLink service: the bidirectional stream that each corral-node dials. It uses gRPC's
// callback API, so no corrald thread is parked on a node: reads are handed to the Controller as
// they arrive, and what the Controller sends a node is written from a queue, one message in
// flight at a time, a burst going out in one flush.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "fabric/proto/corral.grpc.pb.h"
#include "sched/ctld/authenticate.h"
#include "sched/ctld/controller.h"
#include "sched/ctld/open_calls.h"
#include "sched/ctld/step_router.h"

namespace corral::ctld {

class NodeStream;

// Attach is a plain handler (it waits for its commit); Connect is on the callback API.
class NodeLinkService final
    : public v1::NodeLink::WithCallbackMethod_Connect<v1::NodeLink::Service> {
 public:
  NodeLinkService(Controller* c, StepRouter* r, TunnelRouter* t, const Authenticator* a)
      : ctl_(c), router_(r), tunnels_(t), auth_(a) {}
  grpc::Status Attach(grpc::ServerContext* ctx, const v1::AttachRequest* req,
                      v1::AttachReply* reply) override;
  // Only with the certificate of an attached node (mutual TLS), and only as that node (or, for
  // a fleet's certificate, one of its simulated nodes).
  grpc::ServerBidiReactor<v1::NodeMessage, v1::ControllerMessage>* Connect(
      grpc::CallbackServerContext* ctx) override;
  // Ends every stream with UNAVAILABLE and `why`, so that nodes reconnect (to the next corrald)
  // without waiting for the server's shutdown grace period. Streams opened later still work.
  void EndAll(const std::string& why);
  // Blocks until every stream has ended. Call after the server's Shutdown, which cancels them,
  // and before the Controller and StepRouter that the streams use go away.
  void WaitForStreams();

 private:
  friend class NodeStream;  // one stream, in node_link.cc

  Controller* ctl_;
  StepRouter* router_;
  TunnelRouter* tunnels_;
  const Authenticator* auth_;
  OpenCalls<NodeStream> streams_;
};

}  // namespace corral::ctld
