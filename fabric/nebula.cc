#include "fabric/nebula.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/files.h"
#include "common/subprocess.h"

namespace corral {

namespace {

namespace fs = std::filesystem;

// A YAML double-quoted scalar.
std::string Q(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

Result<std::string> Run(const std::vector<std::string>& args) {
  auto prog = NebulaProgram("nebula-cert");
  if (!prog.ok()) return prog.status();
  std::vector<std::string> argv{*prog};
  argv.insert(argv.end(), args.begin(), args.end());
  auto out = RunCaptured(argv, 30000);
  if (!out.ok()) return Status::Internal("nebula-cert " + args[0] + ": " + out.status().message());
  return out;
}

}  // namespace

std::string OverlayIp(int64_t n) {
  // 100.64.0.0/10 holds 2^22 addresses; .0.0 is the network, .0.1 the lighthouse.
  const int64_t host = n + 1;
  if (n < 1 || host >= (int64_t{1} << (32 - kOverlayPrefix)) - 1) return "";
  const uint32_t a = (100u << 24) | (64u << 16) | static_cast<uint32_t>(host);
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

int64_t OverlayIndex(const std::string& ip) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  char tail = 0;
  if (std::sscanf(ip.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a != 100 || b < 64 ||
      b > 127 || c > 255 || d > 255) {
    return 0;
  }
  int64_t host = ((int64_t{b} - 64) << 16) | (int64_t{c} << 8) | d;
  return host >= 2 ? host - 1 : 0;
}

std::string NebulaYaml(const NebulaSettings& s) {
  std::ostringstream y;
  y << "# Written by Corral; rewritten at each start.\n"
    << "pki:\n  ca: " << Q(s.ca) << "\n  cert: " << Q(s.cert) << "\n  key: " << Q(s.key) << "\n";
  if (s.lighthouse) {
    y << "static_host_map: {}\n"
      << "lighthouse:\n  am_lighthouse: true\n  interval: 60\n  hosts: []\n"
      << "relay:\n  am_relay: true\n  use_relays: false\n  relays: []\n"
      << "tun:\n  disabled: true\n  dev: corral-lh\n";
  } else {
    y << "static_host_map:\n  " << Q(kLighthouseIp) << ": [" << Q(s.lighthouse_endpoint) << "]\n"
      << "lighthouse:\n  am_lighthouse: false\n  interval: 60\n  hosts: [" << Q(kLighthouseIp)
      << "]\n"
      << "relay:\n  am_relay: false\n  use_relays: true\n  relays: [" << Q(kLighthouseIp) << "]\n"
      << "tun:\n  disabled: false\n  dev: " << Q(s.tun_dev) << "\n  mtu: " << s.mtu << "\n";
  }
  // Large socket buffers: with the kernel's default, UDP overflows made a 1 MiB allreduce take
  // 200-300 ms rather than 30-50 (PLATFORM.md).
  y << "listen:\n  host: \"0.0.0.0\"\n  port: " << s.listen_port
    << "\n  read_buffer: 8388608\n  write_buffer: 8388608\n"
    << "punchy:\n  punch: true\n  respond: true\n"
    << "logging:\n  level: info\n  format: text\n"
    // ICMP from the mesh, for diagnosis; everything else only from the job's peers.
    << "firewall:\n  outbound:\n    - port: any\n      proto: any\n      host: any\n"
    << "  inbound:\n    - port: any\n      proto: icmp\n      host: any\n";
  for (const std::string& p : s.peers) {
    y << "    - port: any\n      proto: any\n      cidr: " << Q(p + "/32") << "\n";
  }
  return y.str();
}

Result<std::string> NebulaProgram(const std::string& name) {
  return FindInstalled(name, "nebula");
}

Status NebulaCa(const std::string& dir, const std::string& name) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto r = Run({"ca", "-name", name, "-duration", "87600h", "-out-crt", dir + "/ca.crt", "-out-key",
                dir + "/ca.key"});
  if (!r.ok()) return r.status();
  chmod((dir + "/ca.key").c_str(), 0600);
  return Status::Ok();
}

Status NebulaKeygen(const std::string& key_path, const std::string& pub_path) {
  std::error_code ec;
  fs::remove(key_path, ec);
  fs::remove(pub_path, ec);
  auto r = Run({"keygen", "-out-key", key_path, "-out-pub", pub_path});
  if (!r.ok()) return r.status();
  chmod(key_path.c_str(), 0600);
  return Status::Ok();
}

Result<std::string> NebulaSign(const std::string& ca_dir, const std::string& name,
                               const std::string& ip, const std::string& groups,
                               const std::string& pub_pem, const std::string& key_path) {
  // nebula-cert reads and writes files: a private scratch directory for each signing.
  std::string tmp = ca_dir + "/sign.XXXXXX";
  if (!mkdtemp(tmp.data())) return Status::Internal("mkdtemp " + ca_dir + ": " + strerror(errno));
  std::vector<std::string> args{"sign",
                                "-ca-crt",
                                ca_dir + "/ca.crt",
                                "-ca-key",
                                ca_dir + "/ca.key",
                                "-name",
                                name,
                                "-ip",
                                ip + "/" + std::to_string(kOverlayPrefix),
                                "-groups",
                                groups,
                                "-out-crt",
                                tmp + "/host.crt"};
  if (key_path.empty()) {
    if (Status s = WriteFileAtomic(tmp + "/host.pub", pub_pem, 0600); !s.ok()) return s;
    args.insert(args.end(), {"-in-pub", tmp + "/host.pub"});
  } else {
    std::error_code ec;
    fs::remove(key_path, ec);
    args.insert(args.end(), {"-out-key", key_path});
  }
  auto r = Run(args);
  Result<std::string> cert =
      r.ok() ? ReadSmallFile(tmp + "/host.crt", 1 << 16) : Result<std::string>(r.status());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!key_path.empty()) chmod(key_path.c_str(), 0600);
  return cert;
}

}  // namespace corral
