// Control groups for the jobs of one corral-node. Each run of a job on the node gets a group with
// the memory and CPU limits of its request. Its processes are found, signalled and measured
// through that group, wherever they moved and whatever they did to their environment.
//
// cgroup v2 where the unified hierarchy offers the memory controller; v1 otherwise (the memory,
// cpu, cpuacct and devices hierarchies, mounted apart or together). The agent's groups live in
// "corral-<name>" under the agent's own group of each hierarchy; `name` is one agent's (node
// name and spool directory), so that nested agents and the simulated nodes of one host keep
// apart, and a restarted agent finds what its earlier run left. A process joins a group by writing
// "0" to each of the files Create returns (corral-exec does, before it drops root and execs the
// job).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace corral {

struct CgroupLimits {
  int64_t mem_bytes = 0;  // memory and swap together; 0: no limit
  int32_t cpus = 0;       // a CPU-time quota of this many CPUs; 0: none
  // Devices its processes may not open or create, as cgroup v1's devices.deny takes them
  // ("c 195:1 rwm": another job's GPU). Not applied under v2 (that needs a BPF program).
  std::vector<std::string> deny_devices;
};

struct CgroupUsage {
  int64_t cpu_us = 0;      // CPU time of every process the group held
  int64_t bytes = 0;       // memory charged to it now, as its limit counts it
  int64_t peak_bytes = 0;  // the most it held at once (0 where the kernel keeps no peak)
  int64_t oom_kills = 0;   // processes the kernel killed at the group's memory limit
};

class Cgroups {
 public:
  // This agent's groups, or nullptr with the reason in `why`: not root, no cgroup mounted, or a
  // hierarchy that cannot be written. `name` is the node's (a path component).
  static std::unique_ptr<Cgroups> Open(const std::string& name, std::string* why);
  // The same under given directories, for tests: v1 with one directory per hierarchy (memory
  // first), or v2 with one.
  static std::unique_ptr<Cgroups> At(int version, std::vector<std::string> dirs);

  int version() const { return version_; }
  // Makes group `leaf` (a path component) with `limits`. Returns the cgroup.procs files that a
  // process joins it through. A group of that name left behind is emptied and reused.
  Result<std::vector<std::string>> Create(const std::string& leaf, const CgroupLimits& limits);
  std::vector<pid_t> Pids(const std::string& leaf) const;
  // Signals every process of the group; returns how many were signalled.
  int Signal(const std::string& leaf, int sig) const;
  // SIGKILLs the group's processes until none is left (a process forking meanwhile is caught on
  // the next round), for at most `max_ms`. Returns whether it is empty.
  bool KillAll(const std::string& leaf, int max_ms) const;
  CgroupUsage Usage(const std::string& leaf) const;
  // Removes the group; false while it still holds processes.
  bool Remove(const std::string& leaf) const;
  // The groups that exist now (left by an earlier agent of this name, among others).
  std::vector<std::string> Leaves() const;

 private:
  Cgroups(int version, std::vector<std::string> dirs) : version_(version), dirs_(std::move(dirs)) {}
  int version_;
  std::vector<std::string> dirs_;  // v1: memory, then the other hierarchies; v2: one
};

}  // namespace corral
