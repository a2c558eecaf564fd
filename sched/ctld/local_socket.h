// The controller's Unix socket, for callers on its own machine: the kernel tells who connected
// (SO_PEERCRED), as munge tells slurmctld, so a local user needs no token. Chosen over a
// munge-like signed credential because it needs no daemon and no shared key, and the kernel's
// word cannot be forged; it reaches only this machine, where remote users use tokens instead.
//
// gRPC's own unix: listener does not expose the peer's credentials, so this accepts the
// connections itself, notes each one's uid, and hands the socket to the gRPC server
// (AddInsecureChannelFromFd). Calls on it have the peer "fd:N"; Lookup turns that into the uid.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace grpc {
class Server;
}

namespace corral::ctld {

class LocalSocket {
 public:
  // Listens on `path` (mode 0666: anyone on the machine may call; a stale socket is replaced)
  // and starts accepting into `server`, which must be started already and outlive Stop().
  static Result<std::unique_ptr<LocalSocket>> Start(const std::string& path, grpc::Server* server);
  ~LocalSocket();
  // Stops accepting and removes the socket file. Connections already made stay until the
  // server shuts down.
  void Stop();
  // The uid of a call's peer (ServerContext::peer()), if it came through this socket.
  bool Lookup(const std::string& peer, uid_t* uid) const;
  const std::string& path() const { return path_; }

 private:
  LocalSocket(std::string path, int fd, int wake, grpc::Server* s)
      : path_(std::move(path)), fd_(fd), wake_(wake), server_(s) {}
  void Loop();

  std::string path_;
  int fd_, wake_;
  grpc::Server* server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<int, uid_t> peers_;  // by the accepted fd, which gRPC names the peer by
};

}  // namespace corral::ctld
