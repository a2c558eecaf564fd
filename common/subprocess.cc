#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/time.h"

extern char** environ;

namespace corral {

namespace {

// The last non-empty line of `text`.
std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  size_t begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1,
                     end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

}  // namespace

std::string BinDir() {
  return std::filesystem::canonical("/proc/self/exe").parent_path().string();
}

Result<std::string> FindInstalled(const std::string& name, const std::string& package) {
  for (const char* dir : {"/usr/bin", "/usr/sbin", "/usr/local/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return Status::Unavailable(name + " is not installed (Debian's " + package + " package)");
}

Result<std::string> RunCaptured(const std::vector<std::string>& argv, int timeout_ms,
                                size_t max_bytes) {
  if (argv.empty()) return Status::Invalid("nothing to run");
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    return Status::Unavailable(std::string("pipe: ") + strerror(errno));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]);
    return Status::Unavailable(std::string("pipe: ") + strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]), close(err[1]);
  if (rc != 0) {
    close(out[0]), close(err[0]);
    return Status::Unavailable(argv[0] + ": " + strerror(rc));
  }
  std::string text[2];
  bool open[2] = {true, true};
  const int fds[2] = {out[0], err[0]};
  const TimeMs deadline = MonotonicNowMs() + timeout_ms;
  std::string failure;
  while ((open[0] || open[1]) && failure.empty()) {
    const TimeMs left = deadline - MonotonicNowMs();
    if (left <= 0) {
      failure = "did not finish within " + std::to_string(timeout_ms / 1000) + " s";
      break;
    }
    pollfd p[2];
    nfds_t n = 0;
    int which[2];
    for (int k = 0; k < 2; ++k) {
      if (open[k]) p[n] = {fds[k], POLLIN, 0}, which[n++] = k;
    }
    if (poll(p, n, static_cast<int>(left)) < 0) {
      if (errno == EINTR) continue;
      failure = std::string("poll: ") + strerror(errno);
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t got = read(p[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        open[which[i]] = false;
        continue;
      }
      text[which[i]].append(buf, static_cast<size_t>(got));
      if (text[which[i]].size() > max_bytes) {
        failure = "printed more than " + std::to_string(max_bytes) + " bytes";
      }
    }
  }
  close(out[0]), close(err[0]);
  if (!failure.empty()) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!failure.empty()) return Status::Unavailable(argv[0] + ": " + failure);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = LastLine(text[1]);
    if (why.empty()) {
      why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                              : "killed by signal " + std::to_string(WTERMSIG(status));
    }
    return Status::Invalid(why);
  }
  return std::move(text[0]);
}

}  // namespace corral
