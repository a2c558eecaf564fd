// Who listens on a TCP port of this host, for `corral forward`: a job's port is reachable
// through a tunnel only when a process of that job listens on it, so that one user's tunnel
// never reaches another's server on a shared node.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>

namespace corral {

// The socket inodes of the LISTEN entries for `port`, bound to loopback or to every address,
// in the text of /proc/net/tcp or /proc/net/tcp6. Lines that do not parse are skipped.
std::set<uint64_t> ParseListening(const std::string& proc_net_tcp, int port);

// The same, read from this host's /proc/net/tcp and /proc/net/tcp6.
std::set<uint64_t> ListeningSockets(int port);

// Whether one of `pids` holds one of the sockets `inodes` open (through /proc/PID/fd).
bool HoldsSocket(const std::set<pid_t>& pids, const std::set<uint64_t>& inodes);

}  // namespace corral
