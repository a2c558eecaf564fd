#include "cli/client.h"

#include <cstdlib>
#include <iostream>
#include <vector>

namespace corral::cli {

std::string ResolveController(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = getenv("CORRAL_CONTROLLER");
  if (env && *env) return env;
  return "127.0.0.1:6817";
}

int Fail(const std::string& cmd, const Status& s) {
  std::cerr << "corral " << cmd << ": " << s.message() << "\n";
  switch (s.code()) {
    case Status::Code::kUnavailable:
      return kExitUnavailable;
    case Status::Code::kInvalid:
    case Status::Code::kNotFound:
    case Status::Code::kPermissionDenied:
    case Status::Code::kFailedPrecondition:
    case Status::Code::kAlreadyExists:
      return kExitRejected;
    default:
      return kExitFailed;
  }
}

Client::Client(const std::string& a) : address(a) {
  auto channel = DialController(a);
  // The channel outlives the command on purpose: main() ends with _exit, and tearing gRPC
  // down (joining its threads) cost more than the RPC.
  static auto* keep = new std::vector<std::shared_ptr<grpc::Channel>>();
  keep->push_back(channel);
  stub = v1::Controller::NewStub(channel);
}

}  // namespace corral::cli
