#include "launcher/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
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
  return open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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

Result<pid_t> Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return Status::Invalid("spawn: empty argv");
  int out = spec.stdout_fd, err = spec.stderr_fd;
  bool own_out = false, own_err = false;
  if (out < 0) {
    out = OpenOut(spec.stdout_path);
    if (out < 0) return Status::Invalid(spec.stdout_path + ": " + strerror(errno));
    own_out = true;
  }
  if (err < 0) {
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
  std::vector<std::string> args = spec.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> candidates;
  if (spec.argv[0].find('/') != std::string::npos) {
    candidates.push_back(spec.argv[0]);
  } else {
    std::istringstream ps(path_var);
    std::string dir;
    while (std::getline(ps, dir, ':'))
      candidates.push_back((dir.empty() ? "." : dir) + "/" + spec.argv[0]);
  }
  std::string cwd_msg = "corral-node: cannot chdir to " + spec.cwd + "\n";
  std::string exec_msg = "corral-node: cannot execute " + spec.argv[0] + "\n";

  pid_t pid = fork();
  if (pid < 0) return Status::Internal(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) {
      (void)!write(2, cwd_msg.data(), cwd_msg.size());
      _exit(1);
    }
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    for (const auto& c : candidates) execve(c.c_str(), argv.data(), envp.data());
    (void)!write(2, exec_msg.data(), exec_msg.size());
    _exit(127);
  }
  if (own_out) close(out);
  if (own_err) close(err);
  return pid;
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

int ExitCodeOf(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

}  // namespace corral
