#include "launcher/mesh.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "common/files.h"
#include "common/log.h"
#include "common/subprocess.h"
#include "common/time.h"
#include "fabric/nebula.h"

namespace corral {

Status CanRunMesh() {
  if (geteuid() != 0) return Status::FailedPrecondition("the mesh needs root (a tun device)");
  if (access("/dev/net/tun", R_OK | W_OK) != 0) {
    return Status::FailedPrecondition("the mesh needs /dev/net/tun");
  }
  if (auto p = NebulaProgram("nebula"); !p.ok()) return p.status();
  if (auto p = NebulaProgram("nebula-cert"); !p.ok()) return p.status();
  return Status::Ok();
}

bool UcxTcpHasDevice(const std::string& out, const std::string& dev) {
  // Each device is listed under its transport ("Transport: tcp" once per device).
  for (size_t at = out.find("Device: " + dev + "\n"); at != std::string::npos;
       at = out.find("Device: " + dev + "\n", at + 1)) {
    const size_t tr = out.rfind("Transport: ", at);
    if (tr != std::string::npos && out.compare(tr, 15, "Transport: tcp\n") == 0) return true;
  }
  return false;
}

namespace {

// Whether network device `dev` has an IPv4 address yet.
bool HasAddress(const std::string& dev) {
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return false;
  bool found = false;
  for (ifaddrs* a = all; a && !found; a = a->ifa_next) {
    found = a->ifa_addr && a->ifa_addr->sa_family == AF_INET && dev == a->ifa_name;
  }
  freeifaddrs(all);
  return found;
}

// UCX over the mesh where UCX's tcp transport sees the tun device, else ob1/TCP.
void ChooseMpiTransport(NodeMesh* m) {
  // nebula makes the device and addresses it a moment after it starts; UCX lists it only then.
  for (TimeMs until = MonotonicNowMs() + 5000;
       !HasAddress(m->tun_dev) && MonotonicNowMs() < until;) {
    usleep(20000);
  }
  auto prog = FindInstalled("ucx_info", "ucx-utils");
  auto out = prog.ok() ? RunCaptured({*prog, "-d"}, 20000) : Result<std::string>(prog.status());
  if (!out.ok()) {
    m->mpi_why = "ucx_info -d: " + out.status().message();
  } else if (UcxTcpHasDevice(*out, m->tun_dev)) {
    m->mpi_pml = "ucx";
  } else {
    m->mpi_why = "UCX's tcp transport does not list " + m->tun_dev;
  }
  if (m->mpi_pml == "ucx") {
    spdlog::info("mesh: MPI jobs run pml ucx over {}", m->tun_dev);
  } else {
    spdlog::warn("mesh: MPI jobs run ob1/TCP over the mesh, not UCX: {}", m->mpi_why);
  }
}

}  // namespace

Result<std::unique_ptr<NodeMesh>> StartNodeMesh(const std::string& dir,
                                                const std::string& controller,
                                                const std::string& name) {
  auto grant = ReadSmallFile(dir + "/mesh.grant", 256);
  if (!grant.ok()) return std::unique_ptr<NodeMesh>();  // attached without one
  char ip[64] = "";
  int port = 0;
  if (std::sscanf(grant->c_str(), "%63s %d", ip, &port) != 2 || OverlayIndex(ip) == 0 || port < 1 ||
      port > 65535) {
    return Status::Invalid(dir + "/mesh.grant: not an overlay address and a port");
  }
  std::string host = controller.substr(0, controller.rfind(':'));
  auto m = std::make_unique<NodeMesh>();
  m->ip = ip;
  char dev[16];
  std::snprintf(dev, sizeof dev, "crl%08zx", std::hash<std::string>{}(name)&0xffffffffu);
  m->tun_dev = dev;
  NebulaSettings& ns = m->settings;
  ns.ca = dir + "/mesh-ca.crt";
  ns.cert = dir + "/mesh.crt";
  ns.key = dir + "/mesh.key";
  ns.lighthouse_endpoint = host + ":" + std::to_string(port);
  ns.tun_dev = m->tun_dev;
  m->config = dir + "/mesh.yml";
  if (Status s = WriteFileAtomic(m->config, NebulaYaml(ns), 0600); !s.ok()) return s;
  auto proc = NebulaProcess::Start(m->config, dir + "/mesh.log", dir + "/mesh.pid");
  if (!proc.ok()) return proc.status();
  m->proc = std::move(*proc);
  ChooseMpiTransport(m.get());
  spdlog::info("mesh: {} on {} (nebula pid {}), lighthouse {}", m->ip, m->tun_dev, m->proc->pid(),
               ns.lighthouse_endpoint);
  return m;
}

Status NodeMesh::AllowPeers(const std::set<std::string>& ips) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> peers;
  for (const std::string& ip : ips) {
    if (ip != this->ip && OverlayIndex(ip) > 0) peers.push_back(ip);  // never a bad address
  }
  if (peers == settings.peers) return Status::Ok();
  settings.peers = peers;
  if (Status s = WriteFileAtomic(config, NebulaYaml(settings), 0600); !s.ok()) return s;
  if (pid_t pid = proc ? proc->pid() : 0; pid > 0) kill(pid, SIGHUP);
  spdlog::info("mesh: firewall open to {} peer(s) of the jobs here", peers.size());
  return Status::Ok();
}

}  // namespace corral
