// Starting and stopping a job's processes on this node.
// Every process of a job carries CORRAL_JOB_ID and CORRAL_NODE_SESSION (a token unique to one
// corral-node process, so simulated nodes sharing a host never touch each other's jobs) in
// its environment and starts in a session of its own, so KillJobProcesses finds the whole
// tree, including children that moved to another process group or were orphaned.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace corral {

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH (from `env`) if not a path
  EnvList env;                    // the complete environment
  std::string cwd;
  // Where stdout/stderr go: a file path (truncated), or -1/-1 fds to use pipes instead.
  std::string stdout_path, stderr_path;
  int stdout_fd = -1, stderr_fd = -1;  // when >= 0: dup'ed onto 1 and 2 in the child
  int stdin_fd = -1;                   // when >= 0: dup'ed onto 0; else /dev/null
  // When set, a terminal (a pty's slave): the child opens it as stdin, stdout and stderr, and
  // it becomes the controlling terminal of the child's new session. The fds above are unused.
  std::string tty;
  std::vector<int32_t> cpus;  // when set: the CPUs (OS indices) the child is bound to
  // When set: the child starts as corral-exec (this path, exec_main.cc), which joins the
  // cgroups (through their cgroup.procs files), takes the identity `user` ("UID:GID[:GID,...]")
  // and opens the output files as that user, then execs argv. Without it the output files are
  // opened here and argv is spawned directly. Output files are never opened through a symlink.
  std::string exec_helper;
  std::vector<std::string> cgroup_procs;
  std::string user;
};

// Starts the process (posix_spawn). The child gets stdin from /dev/null (or stdin_fd), a new
// session,
// default signal dispositions and no other descriptors. Fails, naming the file, when an output
// file cannot be opened, the working directory is missing or the program cannot be executed;
// the last two also write the reason to the child's stderr destination. With `cpus`, the child
// starts bound to them (the spawning thread is, around posix_spawn: the child inherits it); CPUs
// this process may not use are left out, and none left means no binding.
Result<pid_t> Spawn(const SpawnSpec& spec);

// The processes of (job_id, session) on this host: the sessions of `leaders`, their descendants,
// and any process whose environment names the job and the node session.
std::set<pid_t> JobProcesses(int64_t job_id, const std::string& session,
                             const std::vector<pid_t>& leaders);

// Signals every process of (job_id, session) on this host: the sessions of `leaders`, their
// descendants, and any process whose environment names the job and the node session. Returns how
// many were signalled.
int SignalJobProcesses(int64_t job_id, const std::string& session,
                       const std::vector<pid_t>& leaders, int sig);

// SIGTERM, then SIGKILL after `grace_ms` to whatever is left. Returns when none is left or
// after the SIGKILL.
void KillJobProcesses(int64_t job_id, const std::string& session, const std::vector<pid_t>& leaders,
                      int grace_ms);

// After a job's batch script has exited on this node: SIGKILLs what the job left running.
// corral-node is a child subreaper, so every orphaned descendant of the job is now a child of
// this process: only those children not in `tracked` (live batch scripts and steps) whose
// environment names the job and session are looked at, with their descendants. Cheap when
// nothing was left behind. Returns how many processes were signalled.
int KillLeftovers(int64_t job_id, const std::string& session, const std::set<pid_t>& tracked);

// The exit code Slurm reports: the exit status, or 128 + signal number.
int ExitCodeOf(int wait_status);

}  // namespace corral
