#include "launcher/identity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <tuple>

#include "common/files.h"
#include "common/log.h"
#include "common/time.h"
#include "fabric/channel.h"
#include "fabric/nebula.h"
#include "fabric/pki.h"
#include "fabric/proto/corral.grpc.pb.h"
#include "fabric/tls_probe.h"

namespace corral {

namespace {

// The pin of a join token, or "" when it is not one.
std::string PinOf(const std::string& token) {
  size_t last = token.rfind('.');
  if (token.rfind("cj1.", 0) != 0 || last == std::string::npos) return "";
  return token.substr(last + 1);
}

Result<std::string> TrustedCa(const AttachOptions& o, const std::string& pin) {
  if (!o.ca_file.empty()) {
    auto pem = ReadSmallFile(o.ca_file, 1 << 16);
    if (!pem.ok()) return Status::Invalid("--ca: " + pem.status().message());
    auto info = pki::Inspect(*pem);
    if (!info.ok()) return Status::Invalid("--ca " + o.ca_file + ": " + info.status().message());
    if (!pin.empty() && info->fingerprint != pin) {
      return Status::Invalid("--ca " + o.ca_file + ": not the CA the join token names");
    }
    return *pem;
  }
  auto peer = ProbeTls(o.controller, 5000);
  if (!peer.ok()) return peer.status();
  for (const std::string& pem : peer->chain) {
    auto info = pki::Inspect(pem);
    if (info.ok() && info->fingerprint == pin) return pem;
  }
  return Status::PermissionDenied(
      "controller " + o.controller +
      " did not show the cluster CA that the join token names: not attaching (is this the "
      "right controller, and the token from it?)");
}

}  // namespace

Result<Credentials> LoadOrAttach(const AttachOptions& o, const std::atomic<bool>& stop) {
  const std::string dir = o.state_dir + "/identity";
  Credentials c;
  auto key = ReadSmallFile(dir + "/key.pem", 1 << 16);
  auto cert = ReadSmallFile(dir + "/cert.pem", 1 << 16);
  auto ca = ReadSmallFile(dir + "/ca.pem", 1 << 16);
  if (key.ok() && cert.ok() && ca.ok()) {
    auto info = pki::Inspect(*cert);
    if (!info.ok()) return Status::Invalid(dir + "/cert.pem: " + info.status().message());
    if (info->common_name != o.name) {
      return Status::Invalid(dir + ": this state directory is node " + info->common_name +
                             "'s, not " + o.name + "'s (give its --name, or another --state-dir)");
    }
    c.key_pem = *key;
    c.cert_pem = *cert;
    c.ca_pem = *ca;
    return c;
  }
  if (o.join_token.empty()) {
    return Status::Invalid(
        "this node is not attached yet: give --join-token (or $CORRAL_JOIN_TOKEN), from `corral "
        "admin token create --role join` on the cluster");
  }
  if (o.controller.rfind("unix:", 0) == 0) {
    return Status::Invalid("--controller: a node attaches over TLS (HOST:PORT), not a socket");
  }
  const std::string pin = PinOf(o.join_token);
  if (pin.empty()) {
    return Status::Invalid("--join-token: not a join token (they begin with cj1.)");
  }
  if (mkdir(o.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Invalid("--state-dir " + o.state_dir + ": " + strerror(errno));
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Invalid(dir + ": " + strerror(errno));
  }
  auto new_key = pki::NewKey();
  if (!new_key.ok()) return new_key.status();
  auto csr = pki::NewCsr(*new_key, o.name);
  if (!csr.ok()) return Status::Invalid("--name " + o.name + ": " + csr.status().message());
  std::string overlay_key;
  if (o.overlay) {
    if (Status s = NebulaKeygen(dir + "/mesh.key", dir + "/mesh.pub"); !s.ok()) return s;
    auto pub = ReadSmallFile(dir + "/mesh.pub", 1 << 12);
    if (!pub.ok()) return pub.status();
    overlay_key = *pub;
  }
  const TimeMs deadline = MonotonicNowMs() + o.wait_ms;
  Status last;
  for (int backoff = 100; !stop; backoff = std::min(backoff * 2, 2000)) {
    auto trusted = TrustedCa(o, pin);
    if (trusted.ok()) {
      Credentials plain;
      plain.ca_pem = *trusted;
      auto stub = v1::NodeLink::NewStub(DialController(o.controller, plain));
      grpc::ClientContext ctx;
      ctx.set_deadline(DeadlineIn(10000));
      v1::AttachRequest req;
      req.set_join_token(o.join_token);
      req.set_csr_pem(*csr);
      req.set_name(o.name);
      req.set_fleet(o.fleet);
      req.set_overlay_key(overlay_key);
      v1::AttachReply rep;
      last = FromGrpc(stub->Attach(&ctx, req, &rep), o.controller);
      if (last.ok()) {
        if (Status s = pki::VerifySignedBy(*trusted, rep.cert_pem()); !s.ok()) {
          return Status::PermissionDenied(
              "attach: the certificate corrald gave is not of its CA (" + s.message() + ")");
        }
        for (auto [file, text, mode] : {std::tuple{"/key.pem", *new_key, 0600},
                                        {"/cert.pem", rep.cert_pem(), 0644},
                                        {"/ca.pem", *trusted, 0644}}) {
          if (Status s = WriteFileAtomic(dir + file, text, static_cast<mode_t>(mode)); !s.ok()) {
            return s;
          }
        }
        if (rep.has_overlay()) {
          const auto& g = rep.overlay();
          for (auto [file, text] :
               {std::pair{"/mesh-ca.crt", g.ca()},
                {"/mesh.crt", g.cert()},
                {"/mesh.grant", g.ip() + " " + std::to_string(g.lighthouse_port()) + "\n"}}) {
            if (Status s = WriteFileAtomic(dir + file, text, 0644); !s.ok()) return s;
          }
          spdlog::info("overlay address {}", g.ip());
        } else if (o.overlay) {
          spdlog::info("the controller runs no overlay mesh");
        }
        spdlog::info("attached to {} as {}; identity kept in {}", o.controller, o.name, dir);
        c.key_pem = *new_key;
        c.cert_pem = rep.cert_pem();
        c.ca_pem = *trusted;
        return c;
      }
    } else {
      last = trusted.status();
    }
    if (last.code() != Status::Code::kUnavailable || MonotonicNowMs() > deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
  }
  return Status::Unavailable("stopped before the attach finished");
}

}  // namespace corral
