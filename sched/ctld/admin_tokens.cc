// Tokens and node identities (access.h): `corral admin token create|list|revoke`, and the
// attach of a node with a join token, which signs the node's key with the cluster CA. Kept in
// the store's admin table (kinds "token" and "node-identity"); the AccessTable that calls are
// checked against changes with the store, so that the next command of a batch sees it (a join
// token is not spent twice). A failed commit fails corrald's commands from then on anyway. Methods
// of Controller (and Impl), on the writer thread.
#include <algorithm>
#include <cctype>

#include "common/log.h"
#include "fabric/nebula.h"
#include "fabric/pki.h"
#include "sched/ctld/cluster_mesh.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {
constexpr const char* kTokenKind = "token";
constexpr const char* kIdentityKind = "node-identity";
constexpr int64_t kJoinTtlMs = 3600 * 1000;
constexpr int64_t kMaxTtlS = 10LL * 365 * 24 * 3600;
constexpr int kMaxTokens = 100000;
constexpr int kMaxFleet = 100000;
constexpr int64_t kNodeCertDays = 3650;

bool ValidUser(const std::string& u) {
  if (u.empty() || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@';
  });
}

bool ValidNodeName(const std::string& n) {
  if (n.empty() || n.size() > 64 || n.front() == '-' || n.front() == '.') return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

}  // namespace

Status Controller::Impl::LoadAccess() {
  for (const char* kind : {kTokenKind, kIdentityKind}) {
    auto rows = store->LoadAdmin(kind);
    if (!rows.ok()) return rows.status();
    for (const auto& [key, bytes] : *rows) {
      if (kind == kTokenKind) {
        v1::AccessToken t;
        if (!t.ParseFromString(bytes) || t.id() != key) {
          spdlog::error("state store: token {} is unreadable; ignored", key);
          continue;
        }
        access->Put(t);
      } else {
        v1::NodeIdentity n;
        if (!n.ParseFromString(bytes) || n.fingerprint() != key) {
          spdlog::error("state store: node identity {} is unreadable; ignored", key);
          continue;
        }
        access->Put(n);
      }
    }
  }
  return Status::Ok();
}

Result<v1::AdminTokenReply> Controller::AdminToken(const v1::AdminTokenRequest& req,
                                                   const std::string& by) {
  using R = Result<v1::AdminTokenReply>;
  return impl_->Run<R>([this, req, by](Batch&) -> R {
    Impl& I = *impl_;
    v1::AdminTokenReply reply;
    const std::string& op = req.op();
    if (op == "list") {
      for (v1::AccessToken t : I.access->Tokens()) {
        t.clear_hash();
        *reply.add_tokens() = t;
      }
      return reply;
    }
    if (op == "revoke") {
      v1::AccessToken t;
      if (req.id().empty()) return Status::Invalid("token revoke: give the token's id");
      if (!I.access->FindToken(req.id(), &t)) {
        return Status::NotFound("token " + req.id().substr(0, 32) + ": no such token");
      }
      t.set_revoked(true);
      if (Status s = I.store->PutAdmin(kTokenKind, t.id(), t.SerializeAsString()); !s.ok()) {
        return s;
      }
      I.access->Put(t);
      spdlog::info("token {} ({} {}) revoked by {}", t.id(), t.role(), t.user(), by);
      t.clear_hash();
      *reply.add_tokens() = t;
      return reply;
    }
    if (op != "create") {
      return Status::Invalid("token: unknown operation \"" + op.substr(0, 32) +
                             "\" (create, list or revoke)");
    }
    const bool join = req.role() == "join";
    Role role;
    if (!join && !ParseRole(req.role(), &role)) {
      return Status::Invalid("token create: --role \"" + req.role().substr(0, 32) +
                             "\": must be user, operator, admin or join");
    }
    if (!join && !ValidUser(req.user())) {
      return Status::Invalid(
          "token create: --user: give the user, 1 to 64 letters, digits and _-.@");
    }
    if (join && !req.user().empty()) {
      return Status::Invalid("token create: a join token is no user's; leave out --user");
    }
    if (req.ttl_s() < 0 || req.ttl_s() > kMaxTtlS) {
      return Status::Invalid("token create: --ttl: at most 10 years");
    }
    if (!join && (req.uses() != 0 || req.fleet() != 0)) {
      return Status::Invalid("token create: --uses and --fleet are for join tokens");
    }
    if (req.uses() < 0 || req.uses() > kMaxFleet || req.fleet() < 0 || req.fleet() > kMaxFleet) {
      return Status::Invalid("token create: --uses and --fleet: 0 to 100000");
    }
    if (req.comment().size() > 256) {
      return Status::Invalid("token create: --comment: at most 256 characters");
    }
    if (I.access->Tokens().size() >= kMaxTokens) {
      return Status::FailedPrecondition("token create: there are 100000 tokens; revoke some");
    }
    const TimeMs now = WallNowMs();
    v1::AccessToken t;
    t.set_id(pki::RandomHex(6));
    std::string secret = pki::RandomHex(20);
    if (!req.secret().empty()) {
      auto hex = [](const std::string& x) {
        return x.find_first_not_of("0123456789abcdef") == std::string::npos;
      };
      if (req.secret().size() < 32 || req.secret().size() > 128 || !hex(req.secret()) ||
          req.id().size() != 12 || !hex(req.id())) {
        return Status::Invalid(
            "token create: a given secret must be 32 to 128 hex digits, with a 12-digit id");
      }
      v1::AccessToken old;
      if (I.access->FindToken(req.id(), &old)) {
        return Status::AlreadyExists("token create: token " + req.id() + " exists");
      }
      t.set_id(req.id());
      secret = req.secret();
    }
    t.set_hash(pki::Sha256Hex(secret));
    t.set_user(req.user());
    t.set_role(req.role());
    t.set_created_ms(now);
    if (req.ttl_s() > 0) {
      t.set_expires_ms(now + req.ttl_s() * 1000);
    } else if (join) {
      t.set_expires_ms(now + kJoinTtlMs);
    }
    t.set_by(by.substr(0, 64));
    if (join) {
      t.set_uses_left(req.uses() > 0 ? req.uses() : 1);
      t.set_fleet(req.fleet());
    }
    t.set_comment(req.comment());
    if (Status s = I.store->PutAdmin(kTokenKind, t.id(), t.SerializeAsString()); !s.ok()) return s;
    I.access->Put(t);
    spdlog::info("token {} created by {}: {} {}", t.id(), by, t.role(), t.user());
    reply.set_token(I.access->Format(t, secret));
    t.clear_hash();
    *reply.add_tokens() = t;
    return reply;
  });
}

Result<v1::AttachReply> Controller::Attach(const v1::AttachRequest& req, const std::string& peer) {
  using R = Result<v1::AttachReply>;
  return impl_->Run<R>([this, req, peer](Batch&) -> R {
    Impl& I = *impl_;
    const TimeMs now = WallNowMs();
    std::string why;
    auto t = I.access->JoinToken(req.join_token(), now, &why);
    if (!t.ok()) {
      spdlog::warn("refused an attach from {} (as \"{}\"): {}", peer, req.name().substr(0, 64),
                   why);
      return t.status();
    }
    if (!ValidNodeName(req.name())) {
      return Status::Invalid("attach: name \"" + req.name().substr(0, 64) +
                             "\": 1 to 64 letters, digits and _-. (not first)");
    }
    if (req.fleet() < 0 || req.fleet() > t->fleet()) {
      return Status::PermissionDenied(
          "attach: this join token admits " +
          (t->fleet() > 0 ? "fleets of up to " + std::to_string(t->fleet()) + " simulated nodes"
                          : std::string("no simulated fleet")) +
          "; ask for one with `corral admin token create --role join --fleet N`");
    }
    for (const v1::NodeIdentity& n : I.access->Identities()) {
      if (n.name() == req.name()) {
        return Status::AlreadyExists("attach: node " + req.name() +
                                     " is attached already, with another key; `corral admin node "
                                     "forget " +
                                     req.name() + "` first if this machine replaces it");
      }
    }
    auto pub = pki::CsrPublicKey(req.csr_pem());
    if (!pub.ok()) return Status::Invalid("attach: " + pub.status().message());
    pki::Leaf leaf;
    leaf.common_name = req.name();
    leaf.uri = "corral:node:" + req.name();
    leaf.days = kNodeCertDays;
    auto cert = pki::Issue(I.opts.ca, *pub, leaf);
    if (!cert.ok()) return cert.status();
    auto info = pki::Inspect(*cert);
    if (!info.ok()) return info.status();
    v1::NodeIdentity id;
    v1::AttachReply reply;
    if (I.opts.mesh && !req.overlay_key().empty() && req.fleet() == 0) {
      // The next overlay address after every one given so far.
      int64_t last = 0;
      for (const v1::NodeIdentity& n : I.access->Identities()) {
        last = std::max(last, OverlayIndex(n.overlay_ip()));
      }
      const std::string ip = OverlayIp(last + 1);
      if (ip.empty()) return Status::Unavailable("attach: the mesh has no overlay address left");
      auto grant = I.opts.mesh->Sign(req.name(), ip, req.overlay_key());
      if (!grant.ok()) return grant.status();
      id.set_overlay_ip(ip);
      auto* o = reply.mutable_overlay();
      o->set_ca(I.opts.mesh->ca_pem());
      o->set_cert(*grant);
      o->set_ip(ip);
      o->set_lighthouse_port(I.opts.mesh->port());
    }
    id.set_fingerprint(info->fingerprint);
    id.set_name(req.name());
    id.set_fleet(req.fleet());
    id.set_attached_ms(now);
    id.set_token_id(t->id());
    id.set_expires_ms(info->not_after_ms);
    v1::AccessToken spent = *t;
    spent.set_uses_left(spent.uses_left() - 1);
    if (Status s = I.store->PutAdmin(kIdentityKind, id.fingerprint(), id.SerializeAsString());
        !s.ok()) {
      return s;
    }
    if (Status s = I.store->PutAdmin(kTokenKind, spent.id(), spent.SerializeAsString()); !s.ok()) {
      return s;
    }
    I.access->Put(id);
    I.access->Put(spent);
    spdlog::info("node {} attached from {} with join token {} ({} uses left){}{}", req.name(), peer,
                 t->id(), spent.uses_left(),
                 req.fleet() > 0 ? ", for " + std::to_string(req.fleet()) + " simulated nodes" : "",
                 id.overlay_ip().empty() ? "" : ", overlay " + id.overlay_ip());
    reply.set_cert_pem(*cert);
    reply.set_ca_pem(I.opts.ca.cert_pem);
    return reply;
  });
}

Result<std::vector<std::string>> Controller::Impl::ForgetIdentities(const std::string& name) {
  std::vector<std::string> gone;
  for (const v1::NodeIdentity& n : access->Identities()) {
    if (n.name() != name) continue;
    if (Status s = store->DeleteAdmin(kIdentityKind, n.fingerprint()); !s.ok()) return s;
    gone.push_back(n.fingerprint());
  }
  for (const auto& fp : gone) access->RemoveIdentity(fp);
  return gone;
}

}  // namespace corral::ctld
