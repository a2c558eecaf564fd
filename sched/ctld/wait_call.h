// Controller.Wait on gRPC's callback API: a long poll that holds no thread. The Controller
// answers it when the jobs get there or at its timeout; a call whose client leaves ends at once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "fabric/proto/corral.grpc.pb.h"
#include "sched/ctld/controller.h"
#include "sched/ctld/open_calls.h"

namespace corral::ctld {

class WaitCall;

class WaitCalls {
 public:
  explicit WaitCalls(Controller* c) : ctl_(c) {}
  // The reactor for one Wait call; it deletes itself when the call is done.
  grpc::ServerUnaryReactor* Start(const v1::WaitRequest* req, v1::WaitReply* reply);
  // Answers every open call with UNAVAILABLE and `why`, which `corral wait` takes as "ask
  // again" (of the next controller), rather than the CANCELLED of the server's shutdown.
  void EndAll(const std::string& why);
  // Blocks until every Wait call has ended (call after the server's Shutdown).
  void WaitForCalls() { calls_.WaitForNone(); }

 private:
  friend class WaitCall;  // one call, in wait_call.cc
  Controller* ctl_;
  OpenCalls<WaitCall> calls_;
};

}  // namespace corral::ctld
