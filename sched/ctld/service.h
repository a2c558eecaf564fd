// The gRPC face of corrald: the Controller service (CLI, agents) and the NodeLink stream that
// each corral-node dials. Handlers validate input and delegate to ctld::Controller.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "sched/ctld/controller.h"

namespace corral::ctld {

struct ServerOptions {
  std::string listen;  // "host:port"; port 0 lets the OS pick
  // TLS: the server's key and certificate chain, and the CA that client certificates (nodes')
  // must be signed by (cluster_pki.h).
  std::string server_key_pem, server_cert_pem, ca_pem;
  std::string socket_path;  // the local socket (local_socket.h); empty: none
};

class Server {
 public:
  // Binds and starts serving; calls are authenticated against controller->access().
  static Result<std::unique_ptr<Server>> Start(Controller* controller, const ServerOptions& o);
  virtual ~Server() = default;
  // "host:port" actually bound.
  virtual std::string address() const = 0;
  // Blocks until Shutdown() is called from another thread or a signal handler thread.
  virtual void Wait() = 0;
  virtual void Shutdown() = 0;
};

}  // namespace corral::ctld
