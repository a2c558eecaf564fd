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
    case Status::Code::kUnauthenticated:
      return kExitRejected;
    default:
      return kExitFailed;
  }
}

namespace {

Status CheckUsable(const std::string& address, const Credentials& c) {
  if (address.rfind("unix:", 0) == 0 || !c.ca_pem.empty()) return Status::Ok();
  return Status::Unavailable(
      "controller " + address +
      ": no cluster CA to check it by; set CORRAL_CA to the cluster's ca.pem (corral up writes "
      "it in DIR/env; a controller keeps it in STATE-DIR/pki/ca.pem), or use its local socket "
      "(--controller unix:STATE-DIR/corrald.sock)");
}

Credentials EnvCredentials(Status* bad) {
  auto c = CredentialsFromEnv();
  if (!c.ok()) {
    *bad = c.status();
    return Credentials();
  }
  return *c;
}

}  // namespace

Client::Client(const std::string& a) : address(a) {
  Status bad;
  Credentials c = EnvCredentials(&bad);
  *this = Client(a, c);
  // The local socket needs no CA: an unreadable one matters only for TLS.
  if (!bad.ok() && a.rfind("unix:", 0) != 0) unusable = bad;
}

Client::Client(const std::string& a, const Credentials& c) : address(a), creds(c) {
  unusable = CheckUsable(a, creds);
  Redial();
}

void Client::Redial() {
  // The channel outlives the command on purpose: main() ends with _exit, and tearing gRPC
  // down (joining its threads) cost more than the RPC. One redialled is let go.
  static auto* keep = new std::vector<std::shared_ptr<grpc::Channel>>();
  if (channel) std::erase(*keep, channel);
  channel = DialController(address, creds);
  keep->push_back(channel);
  stub = v1::Controller::NewStub(channel);
}

}  // namespace corral::cli
