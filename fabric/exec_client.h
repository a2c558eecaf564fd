// The client side of Controller.Exec, shared by `corral run` and corral-rsh: starts a step and
// relays its output until it exits. It follows the step across a restart of the controller: when
// the stream breaks (UNAVAILABLE, CANCELLED) after the step started, it attaches to the step
// again (ExecRequest.attach_step) until `follow_ms` have passed without a controller to attach
// to. `on_started` is told the step's id once, when it starts. Blocking; thread-safe for distinct
// calls.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "fabric/credentials.h"
#include "fabric/proto/corral.grpc.pb.h"

namespace corral {

struct ExecOutcome {
  int exit_code = -1;  // the step's exit code, when it ran and exited
  std::string error;   // else why not: it could not start, is not known, or the call failed
};

// Dials `address` with `creds`, and again for each retry: gRPC 1.51's TLS channels do not
// reconnect once their server went away and came back.
ExecOutcome RunExec(const std::string& address, const Credentials& creds,
                    const v1::ExecRequest& req,
                    const std::function<void(const std::string&)>& on_stdout,
                    const std::function<void(const std::string&)>& on_stderr,
                    int64_t follow_ms = 600000,
                    const std::function<void(int64_t step)>& on_started = nullptr);

}  // namespace corral
