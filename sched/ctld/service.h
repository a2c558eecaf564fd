// The gRPC face of corrald: the Controller service (CLI, agents) and the NodeLink stream that
// each corral-node dials. Handlers validate input and delegate to ctld::Controller.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "sched/ctld/controller.h"

namespace corral::ctld {

class Server {
 public:
  // Binds `listen` ("host:port"; port 0 lets the OS pick) and starts serving.
  static Result<std::unique_ptr<Server>> Start(Controller* controller, const std::string& listen);
  virtual ~Server() = default;
  // "host:port" actually bound.
  virtual std::string address() const = 0;
  // Blocks until Shutdown() is called from another thread or a signal handler thread.
  virtual void Wait() = 0;
  virtual void Shutdown() = 0;
};

}  // namespace corral::ctld
