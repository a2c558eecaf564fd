#include "cli/client.h"

#include <cstdlib>
#include <iostream>

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

Client::Client(const std::string& a)
    : address(a), stub(v1::Controller::NewStub(DialController(a))) {}

}  // namespace corral::cli
