#include "sched/ctld/local_socket.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace corral::ctld {

Result<std::unique_ptr<LocalSocket>> LocalSocket::Start(const std::string& path,
                                                        grpc::Server* server) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status::Invalid("--socket " + path.substr(0, 128) + ": the path must be 1 to " +
                           std::to_string(sizeof addr.sun_path - 1) + " bytes");
  }
  memcpy(addr.sun_path, path.c_str(), path.size());
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::FailedPrecondition("--socket " + path + ": exists and is not a socket");
    }
    unlink(path.c_str());  // a stale socket of an earlier corrald
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::Unavailable("--socket: " + std::string(strerror(errno)));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
    int e = errno;
    close(fd);
    return Status::Unavailable("--socket " + path + ": cannot listen (" + strerror(e) + ")");
  }
  chmod(path.c_str(), 0666);
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::unique_ptr<LocalSocket> s(new LocalSocket(path, fd, wake, server));
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

LocalSocket::~LocalSocket() {
  Stop();
  close(fd_);
  close(wake_);
}

void LocalSocket::Stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  if (write(wake_, &one, sizeof one) < 0) spdlog::warn("local socket: cannot wake its thread");
  thread_.join();
  unlink(path_.c_str());
}

void LocalSocket::Loop() {
  for (;;) {
    pollfd p[2] = {{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("local socket: poll: {}", strerror(errno));
      return;
    }
    if (p[1].revents) return;
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        spdlog::warn("local socket: accept: {}", strerror(errno));
        // Out of descriptors: do not spin.
        poll(nullptr, 0, 100);
      }
      continue;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      close(c);
      continue;
    }
    {
      // A new connection may reuse the number of one that gRPC closed: that one has no calls
      // left, so the entry is simply replaced.
      std::lock_guard lock(mu_);
      peers_[c] = cred.uid;
    }
    grpc::AddInsecureChannelFromFd(server_, c);
  }
}

bool LocalSocket::Lookup(const std::string& peer, uid_t* uid) const {
  if (peer.rfind("fd:", 0) != 0) return false;
  int fd = 0;
  try {
    fd = std::stoi(peer.substr(3));
  } catch (...) {
    return false;
  }
  std::lock_guard lock(mu_);
  auto it = peers_.find(fd);
  if (it == peers_.end()) return false;
  *uid = it->second;
  return true;
}

}  // namespace corral::ctld
