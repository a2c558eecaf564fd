#include "launcher/listeners.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace corral {

namespace {

constexpr int kListen = 0x0A;  // TCP_LISTEN in the "st" column

// "0100007F:1F90" (IPv4) or 32 hex digits (IPv6) and a port: loopback or any?
bool Reachable(const std::string& addr) {
  if (addr.find_first_not_of('0') == std::string::npos) return true;  // 0.0.0.0 or ::
  if (addr.size() == 8) return addr.substr(6, 2) == "7F";             // 127.x.x.x, little end
  // ::1 in /proc's byte order, and ::ffff:127.x.x.x.
  if (addr == "00000000000000000000000001000000") return true;
  return addr.size() == 32 && addr.substr(0, 16) == "0000000000000000" &&
         addr.substr(16, 8) == "FFFF0000" && addr.substr(30, 2) == "7F";
}

bool Hex(const std::string& s, unsigned long long* out) {
  if (s.empty() || s.size() > 16) return false;
  char* end = nullptr;
  *out = std::strtoull(s.c_str(), &end, 16);
  return *end == '\0';
}

}  // namespace

std::set<uint64_t> ParseListening(const std::string& text, int port) {
  std::set<uint64_t> found;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, st, queues, timer, retr, uid, timeout, inode;
    if (!(f >> slot >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >>
          inode)) {
      continue;
    }
    size_t colon = local.find(':');
    unsigned long long p = 0, state = 0, ino = 0;
    if (colon == std::string::npos || !Hex(local.substr(colon + 1), &p) || !Hex(st, &state)) {
      continue;
    }
    if (state != kListen || static_cast<int>(p) != port || !Reachable(local.substr(0, colon))) {
      continue;
    }
    char* end = nullptr;
    ino = std::strtoull(inode.c_str(), &end, 10);
    if (*end == '\0' && ino != 0) found.insert(ino);
  }
  return found;
}

std::set<uint64_t> ListeningSockets(int port) {
  std::set<uint64_t> all;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream f(path);
    std::stringstream text;
    text << f.rdbuf();
    for (uint64_t i : ParseListening(text.str(), port)) all.insert(i);
  }
  return all;
}

bool HoldsSocket(const std::set<pid_t>& pids, const std::set<uint64_t>& inodes) {
  if (inodes.empty()) return false;
  for (pid_t pid : pids) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    bool hit = false;
    while (dirent* e = readdir(d)) {
      char buf[64];
      ssize_t n = readlinkat(dirfd(d), e->d_name, buf, sizeof buf - 1);
      if (n <= 9) continue;
      buf[n] = '\0';
      unsigned long long ino = 0;
      if (std::sscanf(buf, "socket:[%llu]", &ino) == 1 && inodes.count(ino)) {
        hit = true;
        break;
      }
    }
    closedir(d);
    if (hit) return true;
  }
  return false;
}

}  // namespace corral
