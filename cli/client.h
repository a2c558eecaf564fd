// How CLI commands reach corrald: the address from --controller, else $CORRAL_CONTROLLER,
// else 127.0.0.1:6817 (unix:PATH for the controller's local socket), with the credentials of
// $CORRAL_CA and $CORRAL_TOKEN; and the exit codes every command shares.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "fabric/channel.h"

namespace corral::cli {

// Exit codes of `corral` (documented in `corral --help` and the README). Stable.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // the command ran but what it did failed (e.g. a job failed: see wait)
  kExitUsage = 2,        // bad options or arguments
  kExitUnavailable = 3,  // the controller could not be reached
  kExitRejected = 4,     // the controller refused the request (invalid, not found, ...)
};

std::string ResolveController(const std::string& flag);

// An exit code for a failed Status, after printing "corral <cmd>: <message>" to stderr.
int Fail(const std::string& cmd, const Status& s);

struct Client {
  // With the credentials of the environment (fabric/channel.h CredentialsFromEnv).
  explicit Client(const std::string& address);
  Client(const std::string& address, const Credentials& creds);
  std::string address;
  Credentials creds;
  // Why calls cannot work (no CA for a TLS address, an unreadable $CORRAL_CA): Call returns it.
  Status unusable;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Controller::Stub> stub;
  // Calls `rpc` with a deadline and maps errors.
  template <typename Req, typename Rep, typename Fn>
  Status Call(Fn fn, const Req& req, Rep* rep, int64_t deadline_ms = 30000) {
    if (!unusable.ok()) return unusable;
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(deadline_ms));
    Status s = FromGrpc((stub.get()->*fn)(&ctx, req, rep), address);
    // gRPC 1.51's TLS channels do not reconnect once their server went away and came back:
    // the next call goes out on a new one.
    if (s.code() == Status::Code::kUnavailable) Redial();
    return s;
  }
  void Redial();
};

}  // namespace corral::cli
