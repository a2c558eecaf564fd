#include "fabric/nebula_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "common/time.h"
#include "fabric/nebula.h"

extern char** environ;

namespace corral {

namespace {

int PidFd(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// Stops the nebula named in `pid_file`, if that pid is still a nebula.
void StopStale(const std::string& pid_file) {
  auto text = ReadSmallFile(pid_file, 64);
  if (!text.ok()) return;
  pid_t pid = static_cast<pid_t>(std::atol(text->c_str()));
  if (pid <= 1) return;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  if (ec || exe.filename() != "nebula") return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) usleep(20000);
  kill(pid, SIGKILL);
}

}  // namespace

NebulaProcess::NebulaProcess(std::string program, std::string config, std::string log,
                             std::string pid_file)
    : program_(std::move(program)),
      config_(std::move(config)),
      log_(std::move(log)),
      pid_file_(std::move(pid_file)) {}

Result<std::unique_ptr<NebulaProcess>> NebulaProcess::Start(const std::string& config,
                                                            const std::string& log_path,
                                                            const std::string& pid_file) {
  auto prog = NebulaProgram("nebula");
  if (!prog.ok()) return prog.status();
  StopStale(pid_file);
  std::unique_ptr<NebulaProcess> p(new NebulaProcess(*prog, config, log_path, pid_file));
  if (pipe2(p->stop_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Status::Internal(std::string("pipe: ") + strerror(errno));
  }
  auto pid = p->Spawn();
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;
  p->thread_ = std::thread([raw = p.get()] { raw->Loop(); });
  return p;
}

Result<pid_t> NebulaProcess::Spawn() {
  int log = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return Status::Invalid(log_ + ": " + strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, log, 1);
  posix_spawn_file_actions_adddup2(&fa, log, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string a0 = program_, a1 = "-config", a2 = config_;
  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, program_.c_str(), &fa, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  close(log);
  if (rc != 0) return Status::Unavailable("cannot start " + program_ + ": " + strerror(rc));
  WriteFileAtomic(pid_file_, std::to_string(pid) + "\n", 0644);
  return pid;
}

void NebulaProcess::Loop() {
  int backoff_ms = 1000;
  for (;;) {
    pid_t pid = pid_.load();
    TimeMs started = MonotonicNowMs();
    // A pidfd is readable once the process has ended, whoever reaps it (corral-node's reaper
    // waits for every child).
    int pfd = PidFd(pid);
    bool stop = false;
    for (;;) {
      pollfd fds[2] = {{stop_[0], POLLIN, 0}, {pfd, POLLIN, 0}};
      int n = poll(fds, pfd >= 0 ? 2 : 1, pfd >= 0 ? -1 : 500);
      if (n > 0 && fds[0].revents) {
        stop = true;
        break;
      }
      if (pfd >= 0 && n > 0 && fds[1].revents) break;
      if (pfd < 0 && (kill(pid, 0) != 0 || waitpid(pid, nullptr, WNOHANG) == pid)) break;
    }
    if (pfd >= 0) close(pfd);
    if (stop) return;
    waitpid(pid, nullptr, WNOHANG);
    if (MonotonicNowMs() - started > 60000) backoff_ms = 1000;
    pollfd s{stop_[0], POLLIN, 0};
    if (poll(&s, 1, backoff_ms) > 0) return;
    backoff_ms = std::min(backoff_ms * 2, 30000);
    auto next = Spawn();
    if (!next.ok()) continue;  // tried again after the next backoff
    pid_ = *next;
    ++restarts_;
  }
}

NebulaProcess::~NebulaProcess() {
  char c = 1;
  [[maybe_unused]] ssize_t n = write(stop_[1], &c, 1);
  if (thread_.joinable()) thread_.join();
  pid_t pid = pid_.load();
  if (pid > 0 && kill(pid, SIGTERM) == 0) {
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid, nullptr, WNOHANG) == pid || kill(pid, 0) != 0) break;
      usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, WNOHANG);
  }
  std::error_code ec;
  std::filesystem::remove(pid_file_, ec);
  close(stop_[0]);
  close(stop_[1]);
}

}  // namespace corral
