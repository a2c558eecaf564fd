// The client side of Controller.Tunnel, shared by `corral attach` and `corral forward`: opens a
// tunnel and moves bytes both ways until it ends, honouring its flow control
// (fabric/tunnel_window.h): what comes from the far end is credited only once written out.
// Blocking; one call per tunnel.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "fabric/proto/corral.grpc.pb.h"

namespace corral {

struct TunnelEnds {
  int in_fd = -1;   // read and sent to the far end; its EOF is the far end's end of input
  int out_fd = -1;  // what the far end sends is written here (may equal in_fd: a socket)
  // When readable, the terminal was resized: `size` is asked for the new size. -1: never.
  int resize_fd = -1;
  std::function<v1::TunnelSize()> size;
  std::function<void(const std::string& node)> opened;  // the tunnel is up, on this node
};

struct TunnelOutcome {
  bool opened = false;
  int exit_code = -1;  // the shell's, when it exited; 0 when a port's connection closed
  Status status;       // why not, when it failed or was refused
};

TunnelOutcome RunTunnel(const std::shared_ptr<grpc::Channel>& channel, const std::string& address,
                        const v1::TunnelOpen& open, const TunnelEnds& ends);

}  // namespace corral
