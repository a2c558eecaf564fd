#include "launcher/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace corral {

namespace {

std::string ReadSmall(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

// Writes `value` to a control file; the kernel's refusal comes back as errno's text.
Status WriteControl(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::Internal(path + ": " + strerror(errno));
  ssize_t n = write(fd, value.data(), value.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) return Status::Internal(path + ": " + strerror(err));
  return Status::Ok();
}

bool Exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

// The value after `key` in a "key value" file (memory.events, cpu.stat, memory.oom_control).
int64_t KeyedValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

int64_t Number(const std::string& text) {
  try {
    return text.empty() ? 0 : std::stoll(text);
  } catch (...) {
    return 0;
  }
}

struct Mount {
  std::string root, point, fstype;
  std::set<std::string> controllers;  // v1: from the super options
};

std::vector<Mount> CgroupMounts() {
  std::vector<Mount> out;
  std::ifstream f("/proc/self/mountinfo");
  for (std::string line; std::getline(f, line);) {
    // id parent major:minor root point options [optional...] - fstype source superoptions
    std::istringstream in(line);
    std::string id, parent, dev, root, point, opts, word;
    in >> id >> parent >> dev >> root >> point >> opts;
    while (in >> word && word != "-") {
    }
    Mount m;
    std::string source, super;
    in >> m.fstype >> source >> super;
    if (m.fstype != "cgroup" && m.fstype != "cgroup2") continue;
    m.root = root;
    m.point = point;
    std::stringstream ss(super);
    for (std::string o; std::getline(ss, o, ',');) m.controllers.insert(o);
    out.push_back(m);
  }
  return out;
}

// This process's group in each hierarchy: "" for v2, else each controller of the line.
std::map<std::string, std::string> OwnGroups() {
  std::map<std::string, std::string> out;
  std::ifstream f("/proc/self/cgroup");
  for (std::string line; std::getline(f, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (ctrls.empty()) {
      out[""] = path;
      continue;
    }
    std::stringstream ss(ctrls);
    for (std::string c; std::getline(ss, c, ',');) out[c] = path;
  }
  return out;
}

// Where this process's group of a mount is in the file system.
std::string GroupDir(const Mount& m, const std::string& group) {
  std::string rel = group;
  if (m.root != "/" && rel.rfind(m.root, 0) == 0) rel = rel.substr(m.root.size());
  if (rel == "/") rel.clear();
  return m.point + rel;
}

bool MakeDir(const std::string& dir, std::string* why) {
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return true;
  *why = dir + ": " + strerror(errno);
  return false;
}

}  // namespace

std::unique_ptr<Cgroups> Cgroups::At(int version, std::vector<std::string> dirs) {
  return std::unique_ptr<Cgroups>(new Cgroups(version, std::move(dirs)));
}

std::unique_ptr<Cgroups> Cgroups::Open(const std::string& name, std::string* why) {
  if (geteuid() != 0) {
    *why = "corral-node does not run as root";
    return nullptr;
  }
  const std::vector<Mount> mounts = CgroupMounts();
  const std::map<std::string, std::string> own = OwnGroups();
  const std::string base = "corral-" + name;
  // v2, where its hierarchy has the memory controller.
  for (const Mount& m : mounts) {
    if (m.fstype != "cgroup2" || !own.count("")) continue;
    std::string dir = GroupDir(m, own.at(""));
    std::string offered = ReadSmall(dir + "/cgroup.controllers");
    if (offered.find("memory") == std::string::npos) continue;
    std::string want = offered.find("cpu") != std::string::npos ? "+memory +cpu" : "+memory";
    // No process may sit in a group that hands controllers down: the agent moves to a leaf.
    if (!WriteControl(dir + "/cgroup.subtree_control", want).ok()) {
      std::string leaf = dir + "/" + base + "-agent";
      if (!MakeDir(leaf, why) || !WriteControl(leaf + "/cgroup.procs", "0").ok() ||
          !WriteControl(dir + "/cgroup.subtree_control", want).ok()) {
        *why = "cgroup v2 at " + dir + ": cannot enable " + want + " for the jobs' groups";
        continue;
      }
    }
    std::string mine = dir + "/" + base;
    if (!MakeDir(mine, why)) continue;
    if (Status s = WriteControl(mine + "/cgroup.subtree_control", want); !s.ok()) {
      *why = s.message();
      continue;
    }
    return std::unique_ptr<Cgroups>(new Cgroups(2, {mine}));
  }
  // v1: memory is required; cpu and cpuacct are used where mounted.
  std::vector<std::string> dirs;
  for (const char* c : {"memory", "cpu", "cpuacct", "devices"}) {
    for (const Mount& m : mounts) {
      if (m.fstype != "cgroup" || !m.controllers.count(c) || !own.count(c)) continue;
      std::string mine = GroupDir(m, own.at(c)) + "/" + base;
      if (std::find(dirs.begin(), dirs.end(), mine) != dirs.end()) break;
      if (!MakeDir(mine, why)) {
        if (std::string(c) == "memory") return nullptr;
        break;
      }
      dirs.push_back(mine);
      break;
    }
    if (dirs.empty()) {
      *why = "no cgroup v2 with the memory controller, and no cgroup v1 memory hierarchy";
      return nullptr;
    }
  }
  return std::unique_ptr<Cgroups>(new Cgroups(1, std::move(dirs)));
}

Result<std::vector<std::string>> Cgroups::Create(const std::string& leaf,
                                                 const CgroupLimits& limits) {
  if (leaf.empty() || leaf.find('/') != std::string::npos || leaf == "." || leaf == "..") {
    return Status::Invalid("cgroup name \"" + leaf + "\" is not a path component");
  }
  if (Exists(dirs_[0] + "/" + leaf)) KillAll(leaf, 1000);  // left by a run that ended with us
  std::vector<std::string> procs;
  for (const std::string& d : dirs_) {
    std::string g = d + "/" + leaf, why;
    if (!MakeDir(g, &why)) return Status::Internal("cgroup: " + why);
    procs.push_back(g + "/cgroup.procs");
  }
  const std::string mem = dirs_[0] + "/" + leaf;
  auto set = [](const std::string& file, const std::string& v) -> Status {
    if (!Exists(file)) return Status::Ok();  // the kernel has no such knob: nothing to limit
    return WriteControl(file, v);
  };
  const std::string bytes = limits.mem_bytes > 0 ? std::to_string(limits.mem_bytes) : "";
  std::vector<std::pair<std::string, std::string>> knobs;
  if (version_ == 2) {
    knobs.emplace_back(mem + "/memory.max", limits.mem_bytes > 0 ? bytes : "max");
    knobs.emplace_back(mem + "/memory.swap.max", limits.mem_bytes > 0 ? "0" : "max");
    knobs.emplace_back(
        mem + "/cpu.max",
        (limits.cpus > 0 ? std::to_string(limits.cpus * 100000) : "max") + " 100000");
  } else {
    // memsw (memory + swap) must stay at or above the memory limit: lift it first, set it last.
    knobs.emplace_back(mem + "/memory.memsw.limit_in_bytes", "-1");
    knobs.emplace_back(mem + "/memory.limit_in_bytes", limits.mem_bytes > 0 ? bytes : "-1");
    if (limits.mem_bytes > 0) knobs.emplace_back(mem + "/memory.memsw.limit_in_bytes", bytes);
    for (const std::string& d : dirs_) {
      if (!Exists(d + "/" + leaf + "/devices.deny")) continue;
      for (const std::string& dev : limits.deny_devices) {
        knobs.emplace_back(d + "/" + leaf + "/devices.deny", dev);
      }
    }
    for (const std::string& d : dirs_) {
      if (!Exists(d + "/" + leaf + "/cpu.cfs_quota_us")) continue;
      knobs.emplace_back(d + "/" + leaf + "/cpu.cfs_period_us", "100000");
      knobs.emplace_back(d + "/" + leaf + "/cpu.cfs_quota_us",
                         limits.cpus > 0 ? std::to_string(limits.cpus * 100000) : "-1");
    }
  }
  for (const auto& [file, value] : knobs) {
    Status s = set(file, value);
    // memsw may be refused where swap accounting is off; the memory limit itself may not.
    if (!s.ok() && file.find("memsw") == std::string::npos &&
        file.find("swap.max") == std::string::npos) {
      Remove(leaf);
      return Status::Internal("cgroup: " + s.message());
    }
  }
  return procs;
}

std::vector<pid_t> Cgroups::Pids(const std::string& leaf) const {
  std::set<pid_t> out;
  for (const std::string& d : dirs_) {
    std::istringstream in(ReadSmall(d + "/" + leaf + "/cgroup.procs"));
    for (pid_t p; in >> p;) out.insert(p);
  }
  return {out.begin(), out.end()};
}

int Cgroups::Signal(const std::string& leaf, int sig) const {
  int n = 0;
  for (pid_t p : Pids(leaf)) n += kill(p, sig) == 0 ? 1 : 0;
  return n;
}

bool Cgroups::KillAll(const std::string& leaf, int max_ms) const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
  for (;;) {
    if (Signal(leaf, SIGKILL) == 0 && Pids(leaf).empty()) return true;
    if (std::chrono::steady_clock::now() >= until) return Pids(leaf).empty();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

CgroupUsage Cgroups::Usage(const std::string& leaf) const {
  CgroupUsage u;
  const std::string mem = dirs_[0] + "/" + leaf;
  if (version_ == 2) {
    u.cpu_us = KeyedValue(ReadSmall(mem + "/cpu.stat"), "usage_usec");
    u.bytes = Number(ReadSmall(mem + "/memory.current"));
    u.peak_bytes = Number(ReadSmall(mem + "/memory.peak"));
    u.oom_kills = KeyedValue(ReadSmall(mem + "/memory.events"), "oom_kill");
    return u;
  }
  u.bytes = Number(ReadSmall(mem + "/memory.usage_in_bytes"));
  u.peak_bytes = Number(ReadSmall(mem + "/memory.max_usage_in_bytes"));
  u.oom_kills = KeyedValue(ReadSmall(mem + "/memory.oom_control"), "oom_kill");
  for (const std::string& d : dirs_) {
    std::string f = d + "/" + leaf + "/cpuacct.usage";
    if (Exists(f)) u.cpu_us = Number(ReadSmall(f)) / 1000;
  }
  return u;
}

bool Cgroups::Remove(const std::string& leaf) const {
  bool ok = true;
  for (const std::string& d : dirs_) {
    std::string g = d + "/" + leaf;
    if (rmdir(g.c_str()) != 0 && errno != ENOENT) ok = false;
  }
  return ok;
}

std::vector<std::string> Cgroups::Leaves() const {
  std::vector<std::string> out;
  if (DIR* d = opendir(dirs_[0].c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_type == DT_DIR && e->d_name[0] != '.') out.push_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace corral
