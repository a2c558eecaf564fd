#include "fabric/channel.h"

#include <absl/synchronization/mutex.h>

namespace corral {

void PrepareGrpc() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

std::shared_ptr<grpc::Channel> DialController(const std::string& address) {
  PrepareGrpc();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  // Reconnect quickly after a controller restart.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  // Large listings (a queue of 10k jobs) arrive without waiting on HTTP/2 window updates.
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 20);
  // No bandwidth-delay probe: its PING frames cost each short-lived `corral` call two more
  // wake-ups on both ends, and the lookahead above already sizes the window.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

Status FromGrpc(const grpc::Status& s, const std::string& address) {
  if (s.ok()) return Status::Ok();
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Status::Invalid(s.error_message());
    case grpc::StatusCode::NOT_FOUND:
      return Status::NotFound(s.error_message());
    case grpc::StatusCode::PERMISSION_DENIED:
      return Status::PermissionDenied(s.error_message());
    case grpc::StatusCode::FAILED_PRECONDITION:
      return Status::FailedPrecondition(s.error_message());
    case grpc::StatusCode::ALREADY_EXISTS:
      return Status::AlreadyExists(s.error_message());
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:  // clients here cancel nothing: the controller stopped
      return Status::Unavailable("controller " + address + " did not answer (" + s.error_message() +
                                 "); is corrald running?");
    default:
      return Status::Internal("controller " + address + ": " + s.error_message());
  }
}

grpc::Status ToGrpc(const Status& s) {
  using grpc::StatusCode;
  StatusCode c = StatusCode::INTERNAL;
  switch (s.code()) {
    case Status::Code::kOk:
      return grpc::Status::OK;
    case Status::Code::kInvalid:
      c = StatusCode::INVALID_ARGUMENT;
      break;
    case Status::Code::kNotFound:
      c = StatusCode::NOT_FOUND;
      break;
    case Status::Code::kAlreadyExists:
      c = StatusCode::ALREADY_EXISTS;
      break;
    case Status::Code::kUnavailable:
      c = StatusCode::UNAVAILABLE;
      break;
    case Status::Code::kPermissionDenied:
      c = StatusCode::PERMISSION_DENIED;
      break;
    case Status::Code::kFailedPrecondition:
      c = StatusCode::FAILED_PRECONDITION;
      break;
    case Status::Code::kInternal:
      c = StatusCode::INTERNAL;
      break;
  }
  return grpc::Status(c, s.message());
}

std::chrono::system_clock::time_point DeadlineIn(int64_t ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

}  // namespace corral
