#include "sched/ctld/authenticate.h"

#include <pwd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/time.h"

namespace corral::ctld {

namespace {

std::string LoginOf(uid_t uid) {
  passwd pw{};
  passwd* out = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &out) == 0 && out) return out->pw_name;
  return "uid" + std::to_string(uid);
}

}  // namespace

Authenticator::Authenticator(const AccessTable* table)
    : table_(table), refusals_([](const std::string& line) { spdlog::warn("{}", line); }) {}

Result<Caller> Authenticator::Identify(grpc::ServerContextBase* ctx) const {
  const std::string peer = ctx->peer();
  uid_t uid = 0;
  if (const LocalSocket* local = local_.load(); local && local->Lookup(peer, &uid)) {
    // A call whose connection closed could see its descriptor's number given to the next
    // caller's connection: such a call was cancelled when its connection went.
    if (ctx->IsCancelled()) return Status::Unauthenticated("not authenticated: the call ended");
    Caller c;
    c.user = LoginOf(uid);
    // root, and the account corrald runs as, own the cluster (as SlurmUser does).
    c.role = uid == 0 || uid == geteuid() ? Role::kAdmin : Role::kUser;
    c.how = "socket uid " + std::to_string(uid);
    return c;
  }
  std::string why;
  const auto& md = ctx->client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) {
    std::string v(it->second.data(), it->second.size());
    std::string token = v.rfind("Bearer ", 0) == 0 ? v.substr(7) : v;
    auto c = table_->ByToken(token, WallNowMs(), &why);
    if (c.ok() && c->job_id != 0 && job_active_ && !job_active_(c->job_id)) {
      why = "the token of job " + std::to_string(c->job_id) + ", which has ended";
      c = TokenRefused();
    }
    if (c.ok()) return c;
    refusals_.Refused(peer, why, WallNowMs());
    return c.status();
  }
  if (auto ac = ctx->auth_context(); ac) {
    auto certs = ac->FindPropertyValues("x509_pem_cert");
    if (!certs.empty()) {
      auto c =
          table_->ByCertificate(std::string(certs[0].data(), certs[0].size()), WallNowMs(), &why);
      if (c.ok()) return c;
      refusals_.Refused(peer, why, WallNowMs());
      return c.status();
    }
  }
  refusals_.Refused(peer, "no credential", WallNowMs());
  return Status::Unauthenticated(
      "not authenticated: no credential (set CORRAL_TOKEN to a token from `corral admin token "
      "create`, or call through the controller's local socket)");
}

Status RequireOperator(const Caller& c, const std::string& what) {
  if (c.operator_or_admin()) return Status::Ok();
  return Status::PermissionDenied(what + ": only an operator or an admin may (you are " + c.user +
                                  ", " + RoleName(c.role) + ")");
}

Status RequireAdmin(const Caller& c, const std::string& what) {
  if (c.admin()) return Status::Ok();
  return Status::PermissionDenied(what + ": only an admin may (you are " + c.user + ", " +
                                  RoleName(c.role) + ")");
}

}  // namespace corral::ctld
