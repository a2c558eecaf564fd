#include "common/status.h"

namespace corral {

std::string Status::ToString() const {
  const char* name = "ok";
  switch (code_) {
    case Code::kOk:
      return "ok";
    case Code::kInvalid:
      name = "invalid";
      break;
    case Code::kNotFound:
      name = "not found";
      break;
    case Code::kAlreadyExists:
      name = "already exists";
      break;
    case Code::kUnavailable:
      name = "unavailable";
      break;
    case Code::kInternal:
      name = "internal";
      break;
    case Code::kPermissionDenied:
      name = "permission denied";
      break;
    case Code::kFailedPrecondition:
      name = "failed precondition";
      break;
    case Code::kUnauthenticated:
      name = "unauthenticated";
      break;
  }
  return std::string(name) + ": " + msg_;
}

}  // namespace corral
