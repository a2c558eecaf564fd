#include "sched/ctld/access.h"

#include <mutex>

#include "fabric/pki.h"

namespace corral::ctld {

Status TokenRefused() {
  return Status::Unauthenticated(
      "not authenticated: the token is not valid (get one with `corral admin token create`)");
}

namespace {

Status Refused() {
  return TokenRefused();
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

bool IsHex(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string FromHex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string ToHex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

}  // namespace

bool ParseRole(const std::string& s, Role* out) {
  if (s == "user") {
    *out = Role::kUser;
  } else if (s == "operator") {
    *out = Role::kOperator;
  } else if (s == "admin") {
    *out = Role::kAdmin;
  } else {
    return false;
  }
  return true;
}

const char* RoleName(Role r) {
  switch (r) {
    case Role::kUser:
      return "user";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
    case Role::kNode:
      return "node";
  }
  return "?";
}

Result<Caller> AccessTable::ByToken(const std::string& token, TimeMs now, std::string* why) const {
  if (token.size() > 512) {
    *why = "a token longer than 512 bytes";
    return Refused();
  }
  std::vector<std::string> f = Split(token, '.');
  if (f[0] == "cjob1" && f.size() == 5 && (f[2].empty() || IsHex(f[2])) && f[2].size() % 2 == 0) {
    // cjob1.JOB.USERHEX.UNTIL.MAC
    const std::string body = f[0] + "." + f[1] + "." + f[2] + "." + f[3];
    if (!pki::SecretEqual(pki::HmacHex(job_key_, body), f[4])) {
      *why = "a job token whose MAC does not check";
      return Refused();
    }
    Caller c;
    try {
      c.job_id = std::stoll(f[1]);
      if (std::stoll(f[3]) < now) {
        *why = "the job token of job " + f[1] + ", expired";
        return Refused();
      }
    } catch (...) {
      *why = "a malformed job token";
      return Refused();
    }
    c.user = FromHex(f[2]);
    c.role = Role::kUser;
    c.how = "job " + f[1] + "'s token";
    return c;
  }
  if (f[0] != "ct1" || f.size() != 3 || !IsHex(f[1]) || !IsHex(f[2])) {
    *why = "no token of Corral's form";
    return Refused();
  }
  std::shared_lock lock(mu_);
  auto it = tokens_.find(f[1]);
  if (it == tokens_.end()) {
    *why = "an unknown token id " + f[1];
    return Refused();
  }
  const v1::AccessToken& t = it->second;
  if (!pki::SecretEqual(pki::Sha256Hex(f[2]), t.hash())) {
    *why = "a wrong secret for token " + f[1];
    return Refused();
  }
  if (t.revoked()) {
    *why = "the revoked token " + f[1];
    return Refused();
  }
  if (t.expires_ms() != 0 && t.expires_ms() < now) {
    *why = "the expired token " + f[1];
    return Refused();
  }
  Caller c;
  if (t.role() == "join" || !ParseRole(t.role(), &c.role)) {
    *why = "token " + f[1] + " of role " + t.role() + ", which is no user's";
    return Refused();
  }
  c.user = t.user();
  c.how = "token " + f[1];
  return c;
}

Result<Caller> AccessTable::ByCertificate(const std::string& cert_pem, TimeMs now,
                                          std::string* why) const {
  auto info = pki::Inspect(cert_pem);
  if (!info.ok()) {
    *why = info.status().message();
    return Status::Unauthenticated("not authenticated: the node certificate is not valid");
  }
  std::shared_lock lock(mu_);
  auto it = identities_.find(info->fingerprint);
  if (it == identities_.end()) {
    *why = "a certificate (CN " + info->common_name.substr(0, 64) + ", " +
           info->fingerprint.substr(0, 16) + ") that no attach issued, or a forgotten node's";
    return Status::Unauthenticated(
        "not authenticated: this node certificate is not (or no longer) the cluster's; attach "
        "again with a join token");
  }
  if (it->second.expires_ms() != 0 && it->second.expires_ms() < now) {
    *why = "node " + it->second.name() + "'s expired certificate";
    return Status::Unauthenticated("not authenticated: the node certificate has expired");
  }
  Caller c;
  c.user = it->second.name();
  c.role = Role::kNode;
  c.fleet = it->second.fleet();
  c.how = "node certificate " + info->fingerprint.substr(0, 16);
  return c;
}

Result<v1::AccessToken> AccessTable::JoinToken(const std::string& token, TimeMs now,
                                               std::string* why) const {
  std::vector<std::string> f = Split(token, '.');
  auto refused = [] {
    return Status::Unauthenticated("not authenticated: the join token is not valid");
  };
  if (f[0] != "cj1" || f.size() != 4 || !IsHex(f[1]) || !IsHex(f[2])) {
    *why = "no join token of Corral's form";
    return refused();
  }
  std::shared_lock lock(mu_);
  auto it = tokens_.find(f[1]);
  if (it == tokens_.end() || it->second.role() != "join" ||
      !pki::SecretEqual(pki::Sha256Hex(f[2]), it->second.hash())) {
    *why = "an unknown join token " + f[1];
    return refused();
  }
  const v1::AccessToken& t = it->second;
  if (t.revoked() || t.uses_left() <= 0) {
    *why = "join token " + f[1] + (t.revoked() ? ", revoked" : ", spent already");
    return refused();
  }
  if (t.expires_ms() != 0 && t.expires_ms() < now) {
    *why = "join token " + f[1] + ", expired";
    return refused();
  }
  return t;
}

std::string AccessTable::JobToken(int64_t job_id, const std::string& user, TimeMs until) const {
  const std::string body =
      "cjob1." + std::to_string(job_id) + "." + ToHex(user) + "." + std::to_string(until);
  return body + "." + pki::HmacHex(job_key_, body);
}

std::string AccessTable::Format(const v1::AccessToken& t, const std::string& secret) const {
  if (t.role() == "join") return "cj1." + t.id() + "." + secret + "." + ca_pin_;
  return "ct1." + t.id() + "." + secret;
}

void AccessTable::Put(const v1::AccessToken& t) {
  std::unique_lock lock(mu_);
  tokens_[t.id()] = t;
}

void AccessTable::Put(const v1::NodeIdentity& n) {
  std::unique_lock lock(mu_);
  identities_[n.fingerprint()] = n;
}

void AccessTable::RemoveIdentity(const std::string& fingerprint) {
  std::unique_lock lock(mu_);
  identities_.erase(fingerprint);
}

std::vector<v1::AccessToken> AccessTable::Tokens() const {
  std::shared_lock lock(mu_);
  std::vector<v1::AccessToken> out;
  for (const auto& [id, t] : tokens_) out.push_back(t);
  return out;
}

bool AccessTable::FindToken(const std::string& id, v1::AccessToken* out) const {
  std::shared_lock lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return false;
  *out = it->second;
  return true;
}

std::vector<v1::NodeIdentity> AccessTable::Identities() const {
  std::shared_lock lock(mu_);
  std::vector<v1::NodeIdentity> out;
  for (const auto& [fp, n] : identities_) out.push_back(n);
  return out;
}

}  // namespace corral::ctld
