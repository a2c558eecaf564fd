#include "sched/ctld/cluster_mesh.h"

#include <sys/stat.h>

#include <filesystem>

#include "common/files.h"
#include "common/log.h"
#include "fabric/nebula.h"

namespace corral::ctld {

Result<std::unique_ptr<ClusterMesh>> ClusterMesh::Start(const std::string& state_dir, int port) {
  if (port < 1 || port > 65535) return Status::Invalid("--overlay-port: must be 1 to 65535");
  if (auto p = NebulaProgram("nebula"); !p.ok()) return p.status();
  auto m = std::unique_ptr<ClusterMesh>(new ClusterMesh());
  m->dir_ = state_dir + "/nebula";
  m->port_ = port;
  std::error_code ec;
  std::filesystem::create_directories(m->dir_, ec);
  chmod(m->dir_.c_str(), 0700);
  if (!std::filesystem::exists(m->dir_ + "/ca.key")) {
    if (Status s = NebulaCa(m->dir_, "corral mesh"); !s.ok()) return s;
    spdlog::info("made the mesh's Nebula CA in {}", m->dir_);
  }
  auto ca = ReadSmallFile(m->dir_ + "/ca.crt", 1 << 16);
  if (!ca.ok()) return ca.status();
  m->ca_pem_ = *ca;
  auto cert =
      NebulaSign(m->dir_, "corrald", kLighthouseIp, "controller", "", m->dir_ + "/lighthouse.key");
  if (!cert.ok()) return cert.status();
  if (Status s = WriteFileAtomic(m->dir_ + "/lighthouse.crt", *cert, 0644); !s.ok()) return s;
  NebulaSettings ns;
  ns.ca = m->dir_ + "/ca.crt";
  ns.cert = m->dir_ + "/lighthouse.crt";
  ns.key = m->dir_ + "/lighthouse.key";
  ns.lighthouse = true;
  ns.listen_port = port;
  if (Status s = WriteFileAtomic(m->dir_ + "/config.yml", NebulaYaml(ns), 0600); !s.ok()) return s;
  auto proc = NebulaProcess::Start(m->dir_ + "/config.yml", m->dir_ + "/nebula.log",
                                   m->dir_ + "/nebula.pid");
  if (!proc.ok()) return proc.status();
  m->proc_ = std::move(*proc);
  spdlog::info("mesh: Nebula lighthouse and relay {} on UDP port {} (pid {})", kLighthouseIp, port,
               m->proc_->pid());
  return m;
}

Result<std::string> ClusterMesh::Sign(const std::string& name, const std::string& ip,
                                      const std::string& pub_pem) const {
  // nebula-cert keygen's form: the header, 32 bytes in base64 (44 characters), the footer.
  const std::string head = "-----BEGIN NEBULA X25519 PUBLIC KEY-----\n";
  const std::string foot = "-----END NEBULA X25519 PUBLIC KEY-----";
  const Status bad =
      Status::Invalid("attach: overlay_key: not a Nebula public key (nebula-cert keygen)");
  if (pub_pem.size() > 1024 || pub_pem.rfind(head, 0) != 0) return bad;
  const size_t end = pub_pem.find(foot, head.size());
  if (end == std::string::npos) return bad;
  std::string body = pub_pem.substr(head.size(), end - head.size());
  while (!body.empty() && body.back() == '\n') body.pop_back();
  if (body.size() != 44 || body.substr(43) != "=" ||
      body.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") !=
          43) {
    return bad;
  }
  if (pub_pem.find_first_not_of("\n", end + foot.size()) != std::string::npos) return bad;
  std::lock_guard<std::mutex> l(mu_);
  return NebulaSign(dir_, name, ip, "node", pub_pem);
}

}  // namespace corral::ctld
