// Controller.Exec on gRPC's callback API: starts a step (a process inside a running job, such as
// an MPI daemon) on one of the job's nodes and streams its output and exit back, with no corrald
// thread waiting on it. A client that goes away kills the step, and ends a `corral run`
// allocation, as the end of srun does. The first event names the step; after a restart of the
// controller the client follows it again with ExecRequest.attach_step.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>

#include "fabric/proto/corral.grpc.pb.h"
#include "sched/ctld/controller.h"
#include "sched/ctld/open_calls.h"
#include "sched/ctld/step_router.h"

namespace corral::ctld {

class ExecStream;

class ExecStreams {
 public:
  ExecStreams(Controller* c, StepRouter* r) : ctl_(c), router_(r) {}
  // The reactor for one Exec call; it deletes itself when the call is done. With only_user,
  // a job of anyone else's is refused (PermissionDenied).
  grpc::ServerWriteReactor<v1::ExecEvent>* Start(const v1::ExecRequest* req,
                                                 const std::string& only_user);
  // The controller is stopping: ends every call with UNAVAILABLE (`why`), leaving the steps
  // running for their clients to follow again on the next controller. Later calls end so too.
  void EndAll(const std::string& why);
  // Blocks until every Exec call has ended. Call after the server's Shutdown, which cancels
  // them, and before the Controller and StepRouter go away.
  void WaitForStreams();

 private:
  friend class ExecStream;  // one call, in exec_stream.cc

  Controller* ctl_;
  StepRouter* router_;
  OpenCalls<ExecStream> calls_;
  std::atomic<bool> ending_{false};
};

}  // namespace corral::ctld
