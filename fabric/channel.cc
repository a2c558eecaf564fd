#include "fabric/channel.h"

#include <absl/synchronization/mutex.h>
#include <unistd.h>

#include <cstdlib>

#include "common/files.h"
#include "fabric/pki.h"

namespace corral {

void PrepareGrpc() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

namespace {

// Sends the token as "authorization: Bearer ..." with every call on a TLS channel.
class TokenPlugin final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit TokenPlugin(std::string token) : header_("Bearer " + std::move(token)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* md) override {
    md->emplace("authorization", header_);
    return grpc::Status::OK;
  }

 private:
  std::string header_;
};

}  // namespace

Result<Credentials> CredentialsFromEnv() {
  Credentials c;
  std::string ca_path;
  if (const char* e = getenv("CORRAL_CA"); e && *e) {
    ca_path = e;
  } else if (const char* home = getenv("HOME"); home && *home) {
    const std::string p = std::string(home) + "/.config/corral/ca.pem";
    if (access(p.c_str(), R_OK) == 0) ca_path = p;
  }
  if (!ca_path.empty()) {
    auto pem = ReadSmallFile(ca_path, 1 << 16);
    if (!pem.ok()) return Status::Invalid("CORRAL_CA: " + pem.status().message());
    c.ca_pem = std::move(*pem);
  }
  if (const char* t = getenv("CORRAL_TOKEN"); t && *t) {
    c.token = t;
  } else if (const char* j = getenv("CORRAL_JOB_TOKEN"); j && *j) {
    c.token = j;
  }
  return c;
}

std::shared_ptr<grpc::Channel> DialController(const std::string& address) {
  auto c = CredentialsFromEnv();
  return DialController(address, c.ok() ? *c : Credentials());
}

std::shared_ptr<grpc::Channel> DialController(const std::string& address,
                                              const Credentials& creds) {
  PrepareGrpc();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  // Reconnect quickly after a controller restart.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC takes it as the connect timeout too, and a TLS
  // handshake cut short at 100 ms left channels that never connected again.
  // Large listings (a queue of 10k jobs) arrive without waiting on HTTP/2 window updates.
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 20);
  // No bandwidth-delay probe: its PING frames cost each short-lived `corral` call two more
  // wake-ups on both ends, and the lookahead above already sizes the window.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  if (address.rfind("unix:", 0) == 0) {
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  }
  // The cluster's CA vouches for corrald, under the name every server certificate carries.
  args.SetSslTargetNameOverride(pki::kServerName);
  grpc::SslCredentialsOptions ssl;
  // Without the cluster's CA, gRPC checks against the system's CAs, which never signed a
  // cluster's certificate: calls then fail their handshake (callers say so first).
  ssl.pem_root_certs = creds.ca_pem;
  ssl.pem_private_key = creds.key_pem;
  ssl.pem_cert_chain = creds.cert_pem;
  std::shared_ptr<grpc::ChannelCredentials> cc = grpc::SslCredentials(ssl);
  if (!creds.token.empty()) {
    cc = grpc::CompositeChannelCredentials(
        cc, grpc::MetadataCredentialsFromPlugin(std::make_unique<TokenPlugin>(creds.token)));
  }
  return grpc::CreateCustomChannel(address, cc, args);
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
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status::Unauthenticated("controller " + address + ": " + s.error_message());
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
    case Status::Code::kUnauthenticated:
      c = StatusCode::UNAUTHENTICATED;
      break;
  }
  return grpc::Status(c, s.message());
}

std::chrono::system_clock::time_point DeadlineIn(int64_t ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

}  // namespace corral
