#include "launcher/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace corral {

namespace {

int OpenOut(const std::string& path) {
  return open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
}

struct ProcInfo {
  pid_t ppid = 0;
  pid_t sid = 0;
};

bool ReadStat(pid_t pid, ProcInfo* out) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  size_t rp = line.rfind(')');
  if (rp == std::string::npos) return false;
  std::istringstream rest(line.substr(rp + 2));
  std::string state;
  pid_t pgrp = 0;
  rest >> state >> out->ppid >> pgrp >> out->sid;
  return !rest.fail();
}

bool EnvironHas(pid_t pid, const std::string& a, const std::string& b) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  bool ha = false, hb = false;
  size_t p = 0;
  while (p < data.size()) {
    size_t e = data.find('\0', p);
    if (e == std::string::npos) e = data.size();
    std::string_view v(data.data() + p, e - p);
    if (v == a) ha = true;
    if (v == b) hb = true;
    p = e + 1;
  }
  return ha && hb;
}

std::set<pid_t> FindJobProcesses(int64_t job_id, const std::string& session,
                                 const std::vector<pid_t>& leaders) {
  std::map<pid_t, ProcInfo> procs;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      long pid = strtol(e->d_name, &end, 10);
      if (*end != '\0' || pid <= 1) continue;
      ProcInfo pi;
      if (ReadStat(static_cast<pid_t>(pid), &pi)) procs[static_cast<pid_t>(pid)] = pi;
    }
    closedir(d);
  }
  std::set<pid_t> sids(leaders.begin(), leaders.end());
  std::set<pid_t> hit;
  std::string tag_job = "CORRAL_JOB_ID=" + std::to_string(job_id);
  std::string tag_node = "CORRAL_NODE_SESSION=" + session;
  pid_t self = getpid();
  for (const auto& [pid, pi] : procs) {
    if (pid == self) continue;
    if (sids.count(pi.sid) || sids.count(pid) || EnvironHas(pid, tag_job, tag_node)) {
      hit.insert(pid);
    }
  }
  // Descendants of anything found so far.
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& [pid, pi] : procs) {
      if (pid != self && !hit.count(pid) && hit.count(pi.ppid)) {
        hit.insert(pid);
        grew = true;
      }
    }
  }
  return hit;
}

}  // namespace

namespace {

// The argv of corral-exec for `spec`, its report descriptor being 3.
std::vector<std::string> HelperArgv(const SpawnSpec& spec) {
  std::vector<std::string> a{spec.exec_helper, "--report", "3"};
  for (const auto& c : spec.cgroup_procs) a.insert(a.end(), {"--cgroup", c});
  if (!spec.user.empty()) a.insert(a.end(), {"--user", spec.user});
  if (spec.stdout_fd < 0 && spec.tty.empty()) a.insert(a.end(), {"--stdout", spec.stdout_path});
  if (spec.stderr_fd < 0 && spec.tty.empty() && !spec.stderr_path.empty() &&
      spec.stderr_path != spec.stdout_path) {
    a.insert(a.end(), {"--stderr", spec.stderr_path});
  }
  if (!spec.cwd.empty()) a.insert(a.end(), {"--chdir", spec.cwd});
  a.push_back("--");
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

}  // namespace

Result<pid_t> Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return Status::Invalid("spawn: empty argv");
  const bool helper = !spec.exec_helper.empty();
  int out = spec.stdout_fd, err = spec.stderr_fd;
  bool own_out = false, own_err = false;
  if (!spec.tty.empty()) {
    out = err = -3;  // the terminal: nothing to open here
  } else if (helper) {
    // corral-exec opens the output files, as the job's user: until then, nothing.
    if (out < 0) out = -2;
    if (err < 0) err = out;
  } else if (out < 0) {
    out = OpenOut(spec.stdout_path);
    if (out < 0) return Status::Invalid(spec.stdout_path + ": " + strerror(errno));
    own_out = true;
  }
  if (err == -1 && spec.tty.empty()) {
    if (spec.stderr_path.empty() || spec.stderr_path == spec.stdout_path) {
      err = out;
    } else {
      err = OpenOut(spec.stderr_path);
      if (err < 0) {
        if (own_out) close(out);
        return Status::Invalid(spec.stderr_path + ": " + strerror(errno));
      }
      own_err = true;
    }
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after.
  std::vector<std::string> env_strings;
  std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [k, v] : spec.env) {
    env_strings.push_back(k + "=" + v);
    if (k == "PATH") path_var = v;
  }
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = helper ? HelperArgv(spec) : spec.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> candidates;
  int report[2] = {-1, -1};  // corral-exec says here why it could not exec
  if (helper) {
    if (pipe2(report, O_CLOEXEC) != 0)
      return Status::Internal(std::string("pipe: ") + strerror(errno));
    candidates.push_back(spec.exec_helper);
  } else if (spec.argv[0].find('/') != std::string::npos) {
    candidates.push_back(spec.argv[0]);
  } else {
    std::istringstream ps(path_var);
    std::string dir;
    while (std::getline(ps, dir, ':'))
      candidates.push_back((dir.empty() ? "." : dir) + "/" + spec.argv[0]);
  }
  // posix_spawn (vfork-like) rather than fork: corral-node is multi-threaded and copying its
  // page tables for every job was most of its per-job cost.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!spec.tty.empty()) {
    // Opened after setsid (glibc applies the attributes first) and without O_NOCTTY: the new
    // session leader takes it as its controlling terminal.
    posix_spawn_file_actions_addopen(&fa, 0, spec.tty.c_str(), O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&fa, 0, 1);
    posix_spawn_file_actions_adddup2(&fa, 0, 2);
  } else {
    if (spec.stdin_fd >= 0) {
      posix_spawn_file_actions_adddup2(&fa, spec.stdin_fd, 0);
    } else {
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    }
    if (out >= 0) {
      posix_spawn_file_actions_adddup2(&fa, out, 1);
    } else {
      posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    }
    if (err >= 0) {
      posix_spawn_file_actions_adddup2(&fa, err, 2);
    } else {
      posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
  }
  if (helper) {
    posix_spawn_file_actions_adddup2(&fa, report[1], 3);
  } else if (!spec.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  }
  posix_spawn_file_actions_addclosefrom_np(&fa, helper ? 4 : 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);  // corral-node ignores SIGPIPE; jobs must not
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  // glibc's posix_spawn has no affinity attribute: the thread takes the job's CPUs for the call.
  cpu_set_t saved, bound;
  bool rebind = false;
  if (!spec.cpus.empty() && sched_getaffinity(0, sizeof saved, &saved) == 0) {
    CPU_ZERO(&bound);
    for (int32_t c : spec.cpus) {
      if (c >= 0 && c < CPU_SETSIZE && CPU_ISSET(c, &saved)) CPU_SET(c, &bound);
    }
    rebind = CPU_COUNT(&bound) > 0 && sched_setaffinity(0, sizeof bound, &bound) == 0;
  }
  pid_t pid = -1;
  int rc = ENOENT;
  for (const auto& c : candidates) {
    rc = posix_spawn(&pid, c.c_str(), &fa, &attr, argv.data(), envp.data());
    if (rc != ENOENT && rc != ENOTDIR) break;
  }
  if (rebind) sched_setaffinity(0, sizeof saved, &saved);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  Status failed;
  if (helper) {
    close(report[1]);
    std::string why;
    char buf[512];
    for (ssize_t n; rc == 0 && (n = read(report[0], buf, sizeof buf)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      why.append(buf, static_cast<size_t>(n));
    }
    close(report[0]);
    if (rc == 0 && !why.empty()) failed = Status::Invalid(why);  // it wrote the job's stderr too
  }
  if (rc != 0) {
    std::string why = !spec.cwd.empty() && access(spec.cwd.c_str(), X_OK) != 0
                          ? "cannot chdir to " + spec.cwd + ": " + strerror(errno)
                          : "cannot execute " + spec.argv[0] + ": " + strerror(rc);
    // The job's error file says why, as it would for a failed exec.
    std::string line = "corral-node: " + why + "\n";
    if (err >= 0) (void)!write(err, line.data(), line.size());
    failed = Status::Invalid(why);
  }
  if (own_out) close(out);
  if (own_err) close(err);
  if (!failed.ok()) return failed;
  return pid;
}

std::set<pid_t> JobProcesses(int64_t job_id, const std::string& session,
                             const std::vector<pid_t>& leaders) {
  return FindJobProcesses(job_id, session, leaders);
}

int SignalJobProcesses(int64_t job_id, const std::string& session,
                       const std::vector<pid_t>& leaders, int sig) {
  int n = 0;
  for (pid_t p : FindJobProcesses(job_id, session, leaders)) {
    if (kill(p, sig) == 0) ++n;
  }
  return n;
}

void KillJobProcesses(int64_t job_id, const std::string& session, const std::vector<pid_t>& leaders,
                      int grace_ms) {
  if (SignalJobProcesses(job_id, session, leaders, SIGTERM) == 0) return;
  for (int waited = 0; waited < grace_ms; waited += 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bool any = false;
    for (pid_t p : FindJobProcesses(job_id, session, leaders)) {
      // Zombies are gone for our purpose; they only wait to be reaped.
      std::ifstream f("/proc/" + std::to_string(p) + "/stat");
      std::string line;
      std::getline(f, line);
      size_t rp = line.rfind(')');
      if (rp != std::string::npos && rp + 2 < line.size() && line[rp + 2] != 'Z') any = true;
    }
    if (!any) return;
  }
  SignalJobProcesses(job_id, session, leaders, SIGKILL);
}

namespace {

// The children of one thread (task) of process `pid`.
std::vector<pid_t> ChildrenOfTask(pid_t pid, pid_t tid) {
  std::vector<pid_t> out;
  std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/children");
  for (pid_t c; f >> c;) out.push_back(c);
  return out;
}

// The children of every thread of process `pid`.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    for (pid_t c : ChildrenOfTask(pid, static_cast<pid_t>(atoi(e->d_name)))) out.push_back(c);
  }
  closedir(d);
  return out;
}

}  // namespace

int KillLeftovers(int64_t job_id, const std::string& session, const std::set<pid_t>& tracked) {
  std::string tag_job = "CORRAL_JOB_ID=" + std::to_string(job_id);
  std::string tag_session = "CORRAL_NODE_SESSION=" + session;
  std::vector<pid_t> doomed;
  // The kernel reparents an orphan to the first live thread of the subreaper, which is the
  // main thread while it runs (find_new_reaper): one file to read, not one per gRPC thread.
  // Children that other threads started themselves are tracked, so they are not looked for.
  for (pid_t c : ChildrenOfTask(getpid(), getpid())) {
    if (tracked.count(c) || !EnvironHas(c, tag_job, tag_session)) continue;
    std::vector<pid_t> stack{c};
    while (!stack.empty()) {
      pid_t p = stack.back();
      stack.pop_back();
      doomed.push_back(p);
      for (pid_t g : ChildrenOf(p)) stack.push_back(g);
    }
  }
  int n = 0;
  for (pid_t p : doomed) n += kill(p, SIGKILL) == 0 ? 1 : 0;
  return n;
}

int ExitCodeOf(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

}  // namespace corral
