// Who is calling, and what they may do (DESIGN.md "Security"). The table of tokens and node
// identities that corrald issued, read on gRPC threads for every call (a shared lock, a SHA-256)
// and changed by the writer thread after the change is committed (admin_tokens.cc).
//
// Credentials, and the strings they are:
//   user token   "ct1.ID.SECRET"            a role: user, operator or admin; the store keeps the
//                                           SHA-256 of SECRET only
//   join token   "cj1.ID.SECRET.CAPIN"      spent by corral-node at attach; CAPIN is the SHA-256
//                                           of the cluster CA's certificate, which the node
//                                           checks before it trusts the controller
//   job token    "cjob1.JOB.USERHEX.UNTIL.MAC"  in a job's environment: that job's user, until
//                                           UNTIL (ms); MAC is an HMAC under corrald's job key,
//                                           so nothing is stored
//   node         its certificate (mutual TLS), known by the fingerprint signed at attach
//   local        the uid on the controller's Unix socket (SO_PEERCRED; local_socket.h)
#pragma once

#include <map>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "fabric/proto/corral.pb.h"

namespace corral::ctld {

enum class Role { kUser, kOperator, kAdmin, kNode };

struct Caller {
  std::string user;  // whose jobs these are; for a node, its name (or a fleet's prefix)
  Role role = Role::kUser;
  int32_t fleet = 0;   // a node identity that speaks for this many simulated nodes
  int64_t job_id = 0;  // a job token's job
  std::string how;     // "token ID", "socket uid N", "job N", "node certificate": for the log
  bool admin() const { return role == Role::kAdmin; }
  bool operator_or_admin() const { return role == Role::kOperator || role == Role::kAdmin; }
};

// The refusal every bad token gets: nothing in it tells a guess from a revoked token.
Status TokenRefused();

// "user", "operator", "admin"; false for anything else.
bool ParseRole(const std::string& s, Role* out);
const char* RoleName(Role r);

class AccessTable {
 public:
  // job_key: the secret that job tokens are MACed with; ca_pin: Sha256 of the CA certificate.
  AccessTable(std::string job_key, std::string ca_pin)
      : job_key_(std::move(job_key)), ca_pin_(std::move(ca_pin)) {}

  // A user, operator, admin or job token. Unauthenticated for anything else, with the same
  // words whatever was wrong (a missing, unknown, wrong, expired or revoked token); *why gets
  // the detail for corrald's log.
  Result<Caller> ByToken(const std::string& token, TimeMs now, std::string* why) const;
  // A node's certificate (PEM, as the TLS layer checked it against the CA).
  Result<Caller> ByCertificate(const std::string& cert_pem, TimeMs now, std::string* why) const;
  // The join token of a `cj1.` string, if it may still be spent; *why as above.
  Result<v1::AccessToken> JoinToken(const std::string& token, TimeMs now, std::string* why) const;

  std::string JobToken(int64_t job_id, const std::string& user, TimeMs until) const;
  // A token's string from its parts: ct1 or cj1 (with the pin).
  std::string Format(const v1::AccessToken& t, const std::string& secret) const;
  const std::string& ca_pin() const { return ca_pin_; }

  // Writer thread, after the commit. A token or identity replaces any of the same key.
  void Put(const v1::AccessToken& t);
  void Put(const v1::NodeIdentity& n);
  void RemoveIdentity(const std::string& fingerprint);
  std::vector<v1::AccessToken> Tokens() const;
  bool FindToken(const std::string& id, v1::AccessToken* out) const;
  std::vector<v1::NodeIdentity> Identities() const;

 private:
  const std::string job_key_, ca_pin_;
  mutable std::shared_mutex mu_;
  std::map<std::string, v1::AccessToken> tokens_;       // by id
  std::map<std::string, v1::NodeIdentity> identities_;  // by certificate fingerprint
};

}  // namespace corral::ctld
