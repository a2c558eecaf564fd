// corral-node's tunnels: a shell (`corral attach`) or a connection to a port of a job
// (`corral forward`), carried over the node's link to corrald (fabric/tunnel_window.h). Each
// tunnel has a thread that moves its bytes with poll; the link's reader only queues frames.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "common/log.h"
#include "common/time.h"
#include "launcher/listeners.h"
#include "launcher/node_agent_impl.h"

namespace corral {

namespace {

// The login shell of the user a job runs as here ("UID:GID[:...]", empty: this process's).
std::string LoginShell(const std::string& user) {
  uid_t uid = user.empty() ? getuid() : static_cast<uid_t>(std::strtoul(user.c_str(), nullptr, 10));
  passwd pw{}, *found = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found && pw.pw_shell &&
      pw.pw_shell[0] == '/' && access(pw.pw_shell, X_OK) == 0) {
    return pw.pw_shell;
  }
  return "/bin/sh";
}

void SetSize(int fd, const v1::TunnelSize& s) {
  if (s.rows() == 0 || s.cols() == 0) return;
  winsize w{};
  w.ws_row = static_cast<unsigned short>(s.rows());
  w.ws_col = static_cast<unsigned short>(s.cols());
  ioctl(fd, TIOCSWINSZ, &w);
}

// A connection to a loopback port, IPv4 first; -1 with errno when neither takes it.
int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
  if (fd >= 0) close(fd);
  fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 b{};
  b.sin6_family = AF_INET6;
  b.sin6_port = htons(static_cast<uint16_t>(port));
  b.sin6_addr = in6addr_loopback;
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0) return fd;
  int e = errno;
  if (fd >= 0) close(fd);
  errno = e;
  return -1;
}

void NonBlocking(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

v1::NodeMessage Frame(int64_t id) {
  v1::NodeMessage m;
  m.mutable_tunnel()->set_id(id);
  return m;
}

}  // namespace

void NodeAgent::Impl::TunnelFrame(const v1::TunnelFrame& f) {
  if (f.has_open()) {
    OpenTunnel(f);
    return;
  }
  std::shared_ptr<LocalTunnel> t;
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = tunnels.find(f.id());
    if (it != tunnels.end()) t = it->second;
  }
  if (!t) return;  // it ended here already: its last frame is on its way
  std::lock_guard<std::mutex> g(t->mu);
  switch (f.frame_case()) {
    case v1::TunnelFrame::kData:
      if (!t->rx.Receive(f.data().size())) {
        spdlog::warn("tunnel {}: the client overran its window; closed", t->id);
        t->closed = true;
      } else {
        t->in += f.data();
      }
      break;
    case v1::TunnelFrame::kCredit:
      t->credit += f.credit();
      break;
    case v1::TunnelFrame::kResize:
      t->has_resize = true;
      t->resize = f.resize();
      break;
    case v1::TunnelFrame::kEof:
      t->in_eof = true;
      break;
    case v1::TunnelFrame::kClose:
      t->closed = true;
      break;
    default:
      break;
  }
  t->Wake();
}

void NodeAgent::Impl::OpenTunnel(const v1::TunnelFrame& f) {
  const v1::TunnelOpen& o = f.open();
  auto fail = [&](const std::string& why) {
    spdlog::warn("tunnel {} into job {} refused: {}", f.id(), o.job_id(), why);
    v1::NodeMessage m = Frame(f.id());
    m.mutable_tunnel()->set_error(why);
    Send(m);
  };
  auto t = std::make_shared<LocalTunnel>();
  t->id = f.id();
  t->job_id = o.job_id();
  if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    fail(std::string("pipe: ") + strerror(errno));
    return;
  }
  std::unique_lock<std::mutex> lk(mu);
  auto it = jobs.find(o.job_id());
  if (f.id() == 0 || tunnels.count(f.id())) {
    lk.unlock();
    fail("tunnel " + std::to_string(f.id()) + " is open already");
  } else if (it == jobs.end()) {
    lk.unlock();
    fail("node " + opts.profile.name + " does not run job " + std::to_string(o.job_id()));
  } else if (o.has_step_stdin()) {
    auto st = steps.find(o.step_stdin());
    if (st == steps.end() || st->second.job_id != o.job_id() || st->second.stdin_fd < 0) {
      lk.unlock();
      fail("step " + std::to_string(o.step_stdin()) + " of job " + std::to_string(o.job_id()) +
           " on node " + opts.profile.name +
           " takes no input (it has ended, was started without it, or is fed already)");
    } else {
      t->step = o.step_stdin();
      t->write_fd = std::exchange(st->second.stdin_fd, -1);
      tunnels[t->id] = t;
      lk.unlock();
      std::thread([this, t] { TunnelLoop(t); }).detach();
      return;
    }
  } else if (o.has_port()) {
    // Connected on the tunnel's thread: finding who listens reads /proc.
    t->socket = true;
    t->port = o.port();
    tunnels[t->id] = t;
    lk.unlock();
    std::thread([this, t] { TunnelLoop(t); }).detach();
    return;
  } else {
    const LocalJob& j = it->second;
    const v1::TunnelShell& sh = o.shell();
    SpawnSpec sp;
    StartAs(j, &sp);  // in the job's cgroup, as its user
    if (sh.argv_size() > 0) {
      sp.argv.assign(sh.argv().begin(), sh.argv().end());
    } else {
      sp.argv = {LoginShell(j.user)};
    }
    sp.env = j.env;
    if (sh.pty()) {
      std::string term = sh.term().empty() ? "xterm-256color" : sh.term();
      bool set = false;
      for (auto& [k, v] : sp.env) {
        if (k == "TERM") v = term, set = true;
      }
      if (!set) sp.env.emplace_back("TERM", term);
    }
    sp.cwd = j.info.spec().workdir();
    if (opts.bind_cpus) sp.cpus = j.pus;
    int child_in = -1, child_out = -1;
    std::string why;
    if (sh.pty()) {
      int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
      char name[128];
      if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0) {
        why = std::string("cannot make a terminal: ") + strerror(errno);
        if (m >= 0) close(m);
      } else {
        SetSize(m, sh.size());
        if (!j.user.empty()) {
          // The job's user owns its terminal, as login does.
          unsigned long uid = 0, gid = 0;
          if (std::sscanf(j.user.c_str(), "%lu:%lu", &uid, &gid) == 2) {
            [[maybe_unused]] int rc = chown(name, static_cast<uid_t>(uid), static_cast<gid_t>(gid));
          }
        }
        sp.tty = name;
        t->pty = true;
        t->read_fd = t->write_fd = m;
      }
    } else {
      int in[2], out[2];
      if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        why = std::string("pipe: ") + strerror(errno);
      } else {
        sp.stdin_fd = child_in = in[0];
        sp.stdout_fd = sp.stderr_fd = child_out = out[1];
        t->write_fd = in[1];
        t->read_fd = out[0];
      }
    }
    Result<pid_t> pid = why.empty() ? Spawn(sp) : Result<pid_t>(Status::Internal(why));
    if (child_in >= 0) close(child_in);
    if (child_out >= 0) close(child_out);
    if (!pid.ok()) {
      lk.unlock();
      if (t->read_fd >= 0) close(t->read_fd);
      if (t->write_fd >= 0 && t->write_fd != t->read_fd) close(t->write_fd);
      close(t->wake[0]);
      close(t->wake[1]);
      fail(pid.status().message());
      return;
    }
    t->pid = *pid;
    tunnel_pids[*pid] = t;
    tunnels[t->id] = t;
    cv.notify_all();  // the reaper waits for children
    lk.unlock();
    spdlog::info("job {}: tunnel {}: {} (pid {})", t->job_id, t->id, sp.argv[0], *pid);
    std::thread([this, t] { TunnelLoop(t); }).detach();
    return;
  }
  close(t->wake[0]);
  close(t->wake[1]);
}

void NodeAgent::Impl::TunnelLoop(std::shared_ptr<LocalTunnel> t) {
  bool link_ok = true;
  auto send = [&](v1::NodeMessage m) {
    if (link_ok && !Send(m)) link_ok = false;
    return link_ok;
  };
  std::string refused;
  if (t->socket) {
    // Only a port that a process of this job listens on, on loopback or every address: never
    // another job's server, nor anything beyond this host.
    std::vector<pid_t> leaders;
    std::string tag;
    {
      std::lock_guard<std::mutex> l(mu);
      auto it = jobs.find(t->job_id);
      if (it != jobs.end()) {
        if (it->second.pid > 0) leaders.push_back(it->second.pid);
        tag = RunTag(it->second.info.restarts());
      }
    }
    const std::string where = "port " + std::to_string(t->port) + " of node " + opts.profile.name;
    if (tag.empty()) {
      refused = "job " + std::to_string(t->job_id) + " ended";
    } else if (!HoldsSocket(JobProcesses(t->job_id, tag, leaders), ListeningSockets(t->port))) {
      refused = "no process of job " + std::to_string(t->job_id) + " listens on " + where +
                " (on 127.0.0.1, ::1 or every address)";
    } else if (int fd = ConnectLoopback(t->port); fd < 0) {
      refused = "cannot connect to " + where + ": " + strerror(errno);
    } else {
      t->read_fd = t->write_fd = fd;
    }
  }
  if (!refused.empty()) {
    spdlog::warn("tunnel {} into job {} refused: {}", t->id, t->job_id, refused);
    v1::NodeMessage m = Frame(t->id);
    m.mutable_tunnel()->set_error(refused);
    send(m);
  } else {
    NonBlocking(t->read_fd);
    NonBlocking(t->write_fd);
    v1::NodeMessage up = Frame(t->id);
    up.mutable_tunnel()->set_opened(opts.profile.name);
    send(up);
  }
  SendWindow win;
  bool read_open = refused.empty() && (t->socket || t->read_fd >= 0), eof_done = false;
  TimeMs exited_at = 0;
  std::string buf(kTunnelChunk, '\0');
  while (link_ok && refused.empty()) {
    bool want_write = false, exited = false;
    int status = 0;
    {
      std::lock_guard<std::mutex> g(t->mu);
      if (t->closed) {
        if (!t->end_why.empty()) {
          v1::NodeMessage m = Frame(t->id);
          m.mutable_tunnel()->set_error(t->end_why);
          send(m);
        }
        break;
      }
      if (t->credit > 0 && !win.Grant(std::exchange(t->credit, 0))) {
        spdlog::warn("tunnel {}: the client returned credit it was not owed; closed", t->id);
        break;
      }
      if (t->has_resize && t->pty) SetSize(t->read_fd, t->resize);
      t->has_resize = false;
      want_write = !t->in.empty() && t->write_fd >= 0;
      if (t->write_fd < 0) t->in.clear();  // nobody reads it any more
      if (t->in_eof && t->in.empty() && !eof_done) {
        eof_done = true;
        if (t->socket) {
          shutdown(t->write_fd, SHUT_WR);
        } else if (!t->pty) {
          close(t->write_fd);  // the shell's stdin ends
          t->write_fd = -1;
        }
      }
      exited = t->exited;
      status = t->status;
    }
    if (exited && exited_at == 0) exited_at = MonotonicNowMs();
    // A shell has ended once it exited and its output is read (or has stopped coming); a port
    // once its server closed the connection.
    if (!t->socket && exited && (!read_open || MonotonicNowMs() - exited_at > 500)) {
      v1::NodeMessage m = Frame(t->id);
      m.mutable_tunnel()->set_exit_code(ExitCodeOf(status));
      send(m);
      break;
    }
    // A step's stdin, once closed (EOF, or the step stopped reading it).
    if ((t->step != 0 && t->write_fd < 0) || (t->socket && !read_open)) {
      v1::NodeMessage m = Frame(t->id);
      m.mutable_tunnel()->set_exit_code(0);
      send(m);
      break;
    }
    pollfd fds[3] = {{t->wake[0], POLLIN, 0},
                     {read_open && win.allowed() > 0 ? t->read_fd : -1, POLLIN, 0},
                     {want_write ? t->write_fd : -1, POLLOUT, 0}};
    if (poll(fds, 3, exited ? 100 : -1) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      char drain[64];
      while (read(t->wake[0], drain, sizeof drain) > 0) {
      }
    }
    if (fds[1].revents) {
      ssize_t n = read(t->read_fd, buf.data(), win.NextChunk());
      if (n > 0) {
        win.Spend(static_cast<uint64_t>(n));
        v1::NodeMessage m = Frame(t->id);
        m.mutable_tunnel()->set_data(buf.data(), static_cast<size_t>(n));
        if (!send(std::move(m))) break;
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        read_open = false;  // EOF; EIO on a pty whose every process has closed it
        if (!t->socket) {
          v1::NodeMessage m = Frame(t->id);
          m.mutable_tunnel()->set_eof(true);
          send(m);
        }
      }
    }
    if (fds[2].revents) {
      uint64_t credit = 0;
      {
        std::lock_guard<std::mutex> g(t->mu);
        ssize_t n = write(t->write_fd, t->in.data(), std::min<size_t>(t->in.size(), 65536));
        if (n > 0) {
          t->in.erase(0, static_cast<size_t>(n));
          credit = t->rx.Consumed(static_cast<uint64_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          credit = t->rx.Consumed(t->in.size());  // EPIPE: the reader is gone; drop its input
          t->in.clear();
          if (!t->socket && !t->pty) {
            close(t->write_fd);
            t->write_fd = -1;
          }
        }
      }
      if (credit > 0) {
        v1::NodeMessage m = Frame(t->id);
        m.mutable_tunnel()->set_credit(credit);
        if (!send(std::move(m))) break;
      }
    }
  }
  // Gone from the table first, so no frame reaches it any more; then the shell is hung up on:
  // SIGHUP to its session, SIGKILL after the grace period if it is still there.
  {
    std::lock_guard<std::mutex> l(mu);
    tunnels.erase(t->id);
  }
  if (t->pid > 0) {
    bool exited;
    {
      std::lock_guard<std::mutex> g(t->mu);
      exited = t->exited;
    }
    if (!exited) {
      kill(-t->pid, SIGHUP);
      kill(-t->pid, SIGCONT);
      for (int waited = 0; waited < opts.kill_grace_ms; waited += 20) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::lock_guard<std::mutex> g(t->mu);
        if (t->exited) break;
      }
      std::lock_guard<std::mutex> g(t->mu);
      if (!t->exited) kill(-t->pid, SIGKILL);
    }
  }
  std::lock_guard<std::mutex> g(t->mu);
  if (t->read_fd >= 0) close(t->read_fd);
  if (t->write_fd >= 0 && t->write_fd != t->read_fd) close(t->write_fd);
  close(t->wake[0]);
  close(t->wake[1]);
  t->wake[0] = t->wake[1] = -1;
  spdlog::info("job {}: tunnel {} ended", t->job_id, t->id);
}

void NodeAgent::Impl::CloseTunnels(int64_t job_id) {
  for (auto& [id, t] : tunnels) {
    if (job_id != 0 && t->job_id != job_id) continue;
    std::lock_guard<std::mutex> g(t->mu);
    t->closed = true;
    if (job_id != 0) t->end_why = "tunnel: job " + std::to_string(job_id) + " ended";
    t->Wake();
  }
}

}  // namespace corral
