// corral-node's steps: processes started in a running job through Exec, their output and exit,
// held while no client follows them (node_agent_impl.h).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>
#include <tuple>

#include "common/log.h"
#include "common/time.h"
#include "fabric/convert.h"
#include "launcher/node_agent_impl.h"

namespace corral {

namespace fs = std::filesystem;

// How long a step's stdin (ExecRequest.feed_stdin) waits for the tunnel that feeds it.
constexpr int64_t kStdinWaitMs = 60000;

void NodeAgent::Impl::StartStep(const v1::StartStep& s) {
  auto fail = [&](const std::string& why) {
    spdlog::warn("job {}: step {} not started: {}", s.job_id(), s.step_id(), why);
    v1::NodeMessage m;
    m.mutable_step_exit()->set_step_id(s.step_id());
    m.mutable_step_exit()->set_error(why);
    Send(m);
  };
  EnvList env;
  std::vector<int32_t> pus;  // a step runs on its job's CPUs here, as the batch script does
  SpawnSpec sp;
  std::string cwd = s.cwd();
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = jobs.find(s.job_id());
    if (it == jobs.end()) {
      fail("node " + opts.profile.name + " does not run job " + std::to_string(s.job_id()));
      return;
    }
    env = it->second.env;
    if (opts.bind_cpus) pus = it->second.pus;
    StartAs(it->second, &sp);  // in the job's cgroup, as its user
    if (cwd.empty()) cwd = it->second.info.spec().workdir();
  }
  for (const auto& e : s.env()) {
    bool replaced = false;
    for (auto& [k, v] : env)
      if (k == e.key()) {
        v = e.value();
        replaced = true;
      }
    if (!replaced) env.emplace_back(e.key(), e.value());
  }
  int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      (s.feed_stdin() && pipe2(in_pipe, O_CLOEXEC) != 0)) {
    fail(std::string("pipe: ") + strerror(errno));
    return;
  }
  sp.stdin_fd = in_pipe[0];
  sp.argv.assign(s.argv().begin(), s.argv().end());
  sp.env = env;
  sp.cwd = cwd;
  sp.stdout_fd = out_pipe[1];
  sp.stderr_fd = err_pipe[1];
  sp.cpus = pus;
  std::unique_lock<std::mutex> lk(mu);
  auto pid = Spawn(sp);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (in_pipe[0] >= 0) close(in_pipe[0]);
  if (!pid.ok()) {
    lk.unlock();
    close(out_pipe[0]);
    close(err_pipe[0]);
    if (in_pipe[1] >= 0) close(in_pipe[1]);
    fail(pid.status().message());
    return;
  }
  spdlog::info("job {}: step {} started pid {}", s.job_id(), s.step_id(), *pid);
  LocalStep& step = steps[s.step_id()];
  step = LocalStep{};
  step.job_id = s.job_id();
  step.pid = *pid;
  step.stdin_fd = in_pipe[1];
  step.stdin_until = in_pipe[1] >= 0 ? MonotonicNowMs() + kStdinWaitMs : 0;
  step.start_ms = WallNowMs();
  for (const std::string& a : s.argv()) {
    if (step.command.size() >= 256) break;
    step.command += (step.command.empty() ? "" : " ") + a;
  }
  if (auto jt = jobs.find(s.job_id()); jt != jobs.end()) step.restarts = jt->second.info.restarts();
  step_pids[*pid] = s.step_id();
  auto io = std::make_shared<StepIo>();
  io->job_id = s.job_id();
  step_io[s.step_id()] = io;
  cv.notify_all();
  lk.unlock();
  int64_t step_id = s.step_id();
  // Forward output until both pipes close, then the exit status.
  std::thread([this, step_id, io, o = out_pipe[0], e = err_pipe[0],
               stdin_waits = in_pipe[1] >= 0]() mutable {
    pollfd fds[2] = {{o, POLLIN, 0}, {e, POLLIN, 0}};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
      // While its stdin waits for a tunnel, wake each second to give up on it in time.
      if (poll(fds, 2, stdin_waits ? 1000 : -1) < 0 && errno != EINTR) break;
      if (stdin_waits) {
        std::lock_guard<std::mutex> l(mu);
        LocalStep& st = steps[step_id];
        if (st.stdin_fd >= 0 && MonotonicNowMs() > st.stdin_until) {
          close(std::exchange(st.stdin_fd, -1));  // nobody came to feed it: EOF
        }
        stdin_waits = st.stdin_fd >= 0;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
          continue;
        }
        v1::NodeMessage m;
        m.mutable_step_output()->set_step_id(step_id);
        if (i == 0) {
          m.mutable_step_output()->set_stdout(std::string(buf, n));
        } else {
          m.mutable_step_output()->set_stderr(std::string(buf, n));
        }
        Emit(*io, std::move(m));
      }
    }
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return steps[step_id].exited || stopping; });
    const LocalStep done = steps[step_id];
    int code = ExitCodeOf(done.status);
    int64_t job_id = done.job_id;
    if (done.stdin_fd >= 0) close(done.stdin_fd);
    steps.erase(step_id);
    for (auto& [tid, t] : tunnels) {
      if (t->step != step_id) continue;
      std::lock_guard<std::mutex> g(t->mu);  // its stdin tunnel ends with it
      t->exited = true;
      t->Wake();
    }
    l.unlock();
    spdlog::info("job {}: step {} exited {}", job_id, step_id, code);
    v1::NodeMessage m;
    v1::StepExit& x = *m.mutable_step_exit();
    x.set_step_id(step_id);
    x.set_exit_code(code);
    x.set_job_id(job_id);
    x.set_restarts(done.restarts);
    x.set_command(done.command);
    x.set_start_ms(done.start_ms);
    x.set_end_ms(WallNowMs());
    x.set_cpu_ms(done.cpu_ms);
    x.set_max_rss_bytes(done.max_rss_bytes);
    std::lock_guard<std::mutex> g(io->mu);
    io->exited = true;
    io->exit = m;
    if (io->routed && !Send(m)) io->routed = false;
  }).detach();
}

void NodeAgent::Impl::Emit(StepIo& io, v1::NodeMessage m) {
  std::lock_guard<std::mutex> g(io.mu);
  if (io.routed && Send(m)) return;
  io.routed = false;
  size_t n = m.step_output().stdout().size() + m.step_output().stderr().size();
  if (io.held_bytes + n > StepIo::kHeldMax) {
    io.dropped_bytes += n;
    return;
  }
  io.held_bytes += n;
  io.held.push_back(std::move(m));
}

void NodeAgent::Impl::AttachStep(const v1::AttachStep& a) {
  std::shared_ptr<StepIo> io;
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = step_io.find(a.step_id());
    if (it != step_io.end() && it->second->job_id == a.job_id()) io = it->second;
  }
  if (!io) {
    v1::NodeMessage m;
    m.mutable_step_exit()->set_step_id(a.step_id());
    m.mutable_step_exit()->set_error(
        "step " + std::to_string(a.step_id()) + " of job " + std::to_string(a.job_id()) +
        " is not known on node " + opts.profile.name +
        " (its exit was delivered already, its job ended, or corral-node restarted)");
    Send(m);
    return;
  }
  std::lock_guard<std::mutex> g(io->mu);
  if (io->dropped_bytes > 0) {
    v1::NodeMessage note;
    note.mutable_step_output()->set_step_id(a.step_id());
    note.mutable_step_output()->set_stderr(
        "corral-node: " + std::to_string(io->dropped_bytes) +
        " bytes of this step's output were dropped while no client followed it\n");
    if (!Send(note)) return;
    io->dropped_bytes = 0;
  }
  while (!io->held.empty()) {
    if (!Send(io->held.front())) return;  // the link dropped again: held for the next attach
    io->held_bytes -= io->held.front().step_output().stdout().size() +
                      io->held.front().step_output().stderr().size();
    io->held.pop_front();
  }
  io->routed = true;
  if (io->exited && !Send(io->exit)) io->routed = false;
}

void NodeAgent::Impl::ForgetSteps(int64_t job_id) {
  for (auto it = step_io.begin(); it != step_io.end();) {
    it = it->second->job_id == job_id ? step_io.erase(it) : std::next(it);
  }
}

}  // namespace corral
