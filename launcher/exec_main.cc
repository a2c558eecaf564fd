// corral-exec: the last step between corral-node and a job's program. corral-node starts it with
// posix_spawn (cheap: no copy of the agent's page tables). Then, as root still, it joins the job's
// control groups, drops to the job's user, opens the output files as that user (never through a
// symbolic link), changes to the working directory, and execs the program with the environment
// it was given. What fails is written to the report descriptor and to the job's stderr, and it
// exits 127; on success the report descriptor closes at the exec with nothing written.
//
//   corral-exec [--report FD] [--cgroup PROCS_FILE]... [--user UID:GID[:GID,...]]
//               [--stdout PATH] [--stderr PATH] [--chdir DIR] -- PROGRAM [ARG...]
//
// Plain system calls only, so that it starts in well under a millisecond.
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int report_fd = -1;

[[noreturn]] void Fail(const std::string& why) {
  std::string line = "corral-node: " + why + "\n";
  if (report_fd >= 0) (void)!write(report_fd, why.data(), why.size());
  (void)!write(2, line.data(), line.size());
  _exit(127);
}

bool ParseId(const char* s, long* out) {
  char* end = nullptr;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || v < 0) return false;
  *out = v;
  return *end == '\0' || *end == ':' || *end == ',';
}

int OpenOut(const std::string& path) {
  return open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<const char*> cgroups;
  const char *user = nullptr, *out = nullptr, *err = nullptr, *dir = nullptr;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) Fail("corral-exec: " + a + " needs a value");
    const char* v = argv[++i];
    if (a == "--report") {
      long fd = 0;
      if (!ParseId(v, &fd)) Fail("corral-exec: --report: not a descriptor");
      report_fd = static_cast<int>(fd);
      fcntl(report_fd, F_SETFD, FD_CLOEXEC);
    } else if (a == "--cgroup") {
      cgroups.push_back(v);
    } else if (a == "--user") {
      user = v;
    } else if (a == "--stdout") {
      out = v;
    } else if (a == "--stderr") {
      err = v;
    } else if (a == "--chdir") {
      dir = v;
    } else {
      Fail("corral-exec: unknown option " + a);
    }
  }
  if (i >= argc) Fail("corral-exec: no program to run");
  for (const char* procs : cgroups) {
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) {
      Fail(std::string("cannot join the job's cgroup (") + procs + "): " + strerror(errno));
    }
    close(fd);
  }
  if (user) {
    long uid = 0, gid = 0;
    const char* p = user;
    if (!ParseId(p, &uid) || !(p = strchr(p, ':')) || !ParseId(p + 1, &gid)) {
      Fail(std::string("corral-exec: --user ") + user + ": not UID:GID[:GID,...]");
    }
    std::vector<gid_t> groups{static_cast<gid_t>(gid)};
    for (p = strchr(p + 1, ':'); p; p = strchr(p + 1, ',')) {
      long g = 0;
      if (!ParseId(p + 1, &g)) Fail(std::string("corral-exec: --user ") + user + ": bad group");
      groups.push_back(static_cast<gid_t>(g));
    }
    if (setgroups(groups.size(), groups.data()) != 0 || setgid(static_cast<gid_t>(gid)) != 0 ||
        setuid(static_cast<uid_t>(uid)) != 0) {
      Fail("cannot become uid " + std::to_string(uid) + ": " + strerror(errno));
    }
    if (uid != 0 && setuid(0) == 0) Fail("corral-exec: root could be regained; not running");
  }
  if (out) {
    int fd = OpenOut(out);
    if (fd < 0) Fail(std::string("cannot open ") + out + ": " + strerror(errno));
    dup2(fd, 1);
    if (!err || strcmp(err, out) == 0) dup2(fd, 2);
    close(fd);
  }
  if (err && (!out || strcmp(err, out) != 0)) {
    int fd = OpenOut(err);
    if (fd < 0) Fail(std::string("cannot open ") + err + ": " + strerror(errno));
    dup2(fd, 2);
    close(fd);
  }
  if (dir && *dir && chdir(dir) != 0) {
    Fail(std::string("cannot chdir to ") + dir + ": " + strerror(errno));
  }
  const std::string prog = argv[i];
  if (prog.find('/') != std::string::npos) {
    execv(prog.c_str(), argv + i);
    Fail("cannot execute " + prog + ": " + strerror(errno));
  }
  const char* path = getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  int first = ENOENT;
  size_t start = 0;
  for (;;) {
    size_t colon = dirs.find(':', start);
    std::string d =
        dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string cand = (d.empty() ? "." : d) + "/" + prog;
    execv(cand.c_str(), argv + i);
    if (errno != ENOENT && errno != ENOTDIR && first == ENOENT) first = errno;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  Fail("cannot execute " + prog + ": " + strerror(first));
}
