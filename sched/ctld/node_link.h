// The NodeLink service: the bidirectional stream that each corral-node dials. It uses gRPC's
// callback API, so no corrald thread is parked on a node: reads are handed to the Controller as
// they arrive, and what the Controller sends a node is written from a queue, one message in
// flight at a time, a burst going out in one flush.
#pragma once

#include <grpcpp/grpcpp.h>

#include "fabric/proto/corral.grpc.pb.h"
#include "sched/ctld/controller.h"
#include "sched/ctld/step_router.h"

namespace corral::ctld {

class NodeLinkService final : public v1::NodeLink::CallbackService {
 public:
  NodeLinkService(Controller* c, StepRouter* r) : ctl_(c), router_(r) {}
  grpc::ServerBidiReactor<v1::NodeMessage, v1::ControllerMessage>* Connect(
      grpc::CallbackServerContext* ctx) override;

 private:
  Controller* ctl_;
  StepRouter* router_;
};

}  // namespace corral::ctld
