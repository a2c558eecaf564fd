#include "sched/ctld/cluster_pki.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/files.h"

namespace corral::ctld {

namespace {

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

Result<ClusterPki> LoadOrCreatePki(const std::string& state_dir,
                                   const std::vector<std::string>& names) {
  const std::string dir = state_dir + "/pki";
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Unavailable(dir + ": cannot create (" + strerror(errno) + ")");
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
    return Status::FailedPrecondition(dir + ": not a directory of corrald's user");
  }
  chmod(dir.c_str(), 0700);
  ClusterPki p;
  p.ca_path = dir + "/ca.pem";
  auto key = ReadSmallFile(dir + "/ca.key", 1 << 16);
  auto cert = ReadSmallFile(p.ca_path, 1 << 16);
  if (key.ok() && cert.ok()) {
    p.ca = {*key, *cert};
  } else if (key.status().code() == Status::Code::kNotFound &&
             cert.status().code() == Status::Code::kNotFound) {
    char host[256] = "corral";
    gethostname(host, sizeof host - 1);
    auto ca = pki::NewCa(std::string("Corral cluster CA ") + host, 3650);
    if (!ca.ok()) return ca.status();
    if (Status s = WriteFileAtomic(dir + "/ca.key", ca->key_pem, 0600); !s.ok()) return s;
    if (Status s = WriteFileAtomic(p.ca_path, ca->cert_pem, 0644); !s.ok()) return s;
    p.ca = *ca;
  } else {
    return Status::FailedPrecondition(dir + ": the CA is incomplete (" +
                                      (key.ok() ? cert : key).status().message() +
                                      "); restore ca.key and ca.pem from a backup");
  }
  if (Status s = pki::VerifySignedBy(p.ca.cert_pem, p.ca.cert_pem); !s.ok()) {
    return Status::FailedPrecondition(p.ca_path + ": " + s.message());
  }
  auto job_key = ReadSmallFile(dir + "/job.key", 4096);
  if (job_key.ok() && job_key->size() >= 64) {
    p.job_key = *job_key;
  } else {
    p.job_key = pki::RandomHex(32);
    if (Status s = WriteFileAtomic(dir + "/job.key", p.job_key, 0600); !s.ok()) return s;
  }
  pki::Leaf leaf;
  leaf.common_name = "corrald";
  leaf.server = true;
  leaf.days = 825;
  for (const std::string& n : names) {
    if (n.empty() || n == pki::kServerName) continue;
    (IsIp(n) ? leaf.ips : leaf.dns).push_back(n);
  }
  auto server = pki::IssueNew(p.ca, leaf);
  if (!server.ok()) return server.status();
  p.server = {server->key_pem, server->cert_pem + p.ca.cert_pem};
  if (Status s = WriteFileAtomic(dir + "/server.key", p.server.key_pem, 0600); !s.ok()) return s;
  if (Status s = WriteFileAtomic(dir + "/server.pem", p.server.cert_pem, 0644); !s.ok()) return s;
  auto info = pki::Inspect(p.ca.cert_pem);
  if (!info.ok()) return info.status();
  p.ca_pin = info->fingerprint;
  return p;
}

Status RequireTls13(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Status::Invalid("--state-dir " + state_dir + ": " + ec.message());
  const std::string path = state_dir + "/openssl-tls13.cnf";
  const std::string conf =
      "# Written by corrald at each start: its TLS port speaks TLS 1.3 only.\n"
      "openssl_conf = corral_init\n"
      "[corral_init]\nssl_conf = corral_ssl\n"
      "[corral_ssl]\nsystem_default = corral_tls\n"
      "[corral_tls]\nMinProtocol = TLSv1.3\nProtocol = -ALL, TLSv1.3\n";
  if (Status s = WriteFileAtomic(path, conf, 0644); !s.ok()) return s;
  setenv("OPENSSL_CONF", path.c_str(), 1);
  return Status::Ok();
}

}  // namespace corral::ctld
