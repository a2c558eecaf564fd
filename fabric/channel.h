// Client side of the controller API: dialling corrald and turning gRPC errors into Status.
// Includes grpcpp: only the CLI and the node agent's link code should include this header.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "fabric/credentials.h"
#include "fabric/proto/corral.grpc.pb.h"

namespace corral {

// Process-wide gRPC settings for every Corral binary; idempotent, called before the first channel
// or server. Debian's abseil runs a mutex deadlock detector on every lock that gRPC takes (it
// is built without NDEBUG); it cost a quarter of corrald's CPU per submitted job, so it is off.
void PrepareGrpc();
// A channel to corrald. "unix:PATH" is the controller's local socket, where the caller's uid is
// its identity and nothing else is sent; "host:port" is TLS, checked against creds.ca_pem.
// Does not connect until first use.
std::shared_ptr<grpc::Channel> DialController(const std::string& address, const Credentials& creds);
// The same with CredentialsFromEnv() (none where they cannot be read: calls then fail).
std::shared_ptr<grpc::Channel> DialController(const std::string& address);
// Maps a failed gRPC call to a Status whose message names the controller address. UNAVAILABLE,
// DEADLINE_EXCEEDED and CANCELLED (Corral's clients cancel nothing; a stopping controller does)
// become Unavailable, which callers may retry.
Status FromGrpc(const grpc::Status& s, const std::string& address);
// Maps a Status to a gRPC status for a handler's reply.
grpc::Status ToGrpc(const Status& s);
// A deadline `ms` milliseconds from now, as gRPC wants it (system_clock).
std::chrono::system_clock::time_point DeadlineIn(int64_t ms);

}  // namespace corral
