#include "launcher/node_agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "common/log.h"
#include "common/time.h"
#include "fabric/channel.h"
#include "fabric/convert.h"
#include "launcher/gpu_check.h"
#include "launcher/journal.h"
#include "launcher/process.h"

namespace corral {

namespace fs = std::filesystem;

namespace {

struct LocalJob {
  v1::JobInfo info;  // includes the full spec; info.restarts() names this run of the job
  EnvList env;       // the job's complete environment on this node
  bool batch_host = false;
  pid_t pid = 0;        // batch script, when this node runs it
  TimeMs deadline = 0;  // monotonic; 0 = none
  bool cancelled = false, timed_out = false;
  std::string dir;
};

// A job's directory holds its script and hostfile, and is its TMPDIR. Plain system calls: these
// run for every job, and std::filesystem's general versions cost several times more.
void MakeJobDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
}

void RemoveJobDir(const std::string& dir) {
  unlink((dir + "/script").c_str());
  unlink((dir + "/hostfile").c_str());
  if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
  std::error_code ec;  // the job left files in its TMPDIR
  fs::remove_all(dir, ec);
}

bool WriteNewFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  fchmod(fd, mode);  // also when the file was there already
  close(fd);
  return done == data.size();
}

struct LocalStep {
  int64_t job_id = 0;
  pid_t pid = 0;
  bool exited = false;
  int status = 0;
};

// What a step sends its client through the controller. On a new link nobody follows the step
// until its client attaches again (AttachStep): meanwhile its output is held, up to kHeldMax,
// and its exit is kept until the controller says the client has it (AckStep) or the job ends.
struct StepIo {
  static constexpr size_t kHeldMax = 8 << 20;
  int64_t job_id = 0;
  std::mutex mu;  // orders what is sent for the step; taken after Impl::mu, never before
  bool routed = true;
  std::deque<v1::NodeMessage> held;
  size_t held_bytes = 0, dropped_bytes = 0;
  bool exited = false;
  v1::NodeMessage exit;
};

}  // namespace

class NodeAgent::Impl {
 public:
  explicit Impl(AgentOptions o) : opts(std::move(o)) {
    std::random_device rd;
    char buf[32];
    snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    session = buf;
  }

  AgentOptions opts;
  std::string session;  // tags this agent's job processes, with the run: RunTag
  // CORRAL_NODE_SESSION of a run of a job: unique to this agent and the run, so that stopping
  // an earlier run of a requeued job never touches the new one.
  std::string RunTag(int32_t restarts) const { return session + "." + std::to_string(restarts); }
  std::atomic<bool> stopping{false};

  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::map<int64_t, LocalJob> jobs;
  std::map<int64_t, LocalStep> steps;                  // by step id
  std::map<int64_t, std::shared_ptr<StepIo>> step_io;  // by step id, until acknowledged
  std::map<int64_t, v1::JobFinished> unacked;          // finishes not yet acknowledged
  std::map<int64_t, v1::LostJob> lost;  // lost by a restart of this agent; not yet told
  std::unique_ptr<JobJournal> journal;  // set by Run() before anything starts
  std::map<pid_t, std::pair<int64_t, int32_t>> batch_pids;  // pid -> job id, restarts
  std::map<pid_t, int64_t> step_pids;                       // pid -> step id
  // Monotonic time -> a job's run (id, its RunTag) to sweep again then.
  std::multimap<TimeMs, std::pair<int64_t, std::string>> sweeps;

  // The link; writes are serialised by link_mu.
  std::mutex link_mu;
  grpc::ClientContext* ctx = nullptr;
  std::unique_ptr<grpc::ClientReaderWriter<v1::NodeMessage, v1::ControllerMessage>> stream;
  int64_t heartbeat_ms = 1000;

  // The GPU check runs on a thread of its own, so the link keeps reading and heartbeating: the
  // latest challenge not yet run waits in verify_next, the latest request to open in open_next.
  // `checks` (the verifier thread's alone) keeps the last round's products until they are
  // opened.
  std::mutex verify_mu;
  std::condition_variable verify_cv;
  std::optional<v1::GemmChallenge> verify_next;
  std::optional<v1::GemmOpen> open_next;
  std::thread verifier;
  std::unique_ptr<GpuChecks> checks;

  void QueueVerifyWork(const v1::ControllerMessage& m) {
    std::lock_guard<std::mutex> l(verify_mu);
    if (m.has_verify_open()) {
      open_next = m.verify_open();
    } else {
      verify_next = m.registered().verify();
    }
    if (!verifier.joinable()) verifier = std::thread([this] { VerifyLoop(); });
    verify_cv.notify_all();
  }

  void VerifyLoop() {
    std::unique_lock<std::mutex> l(verify_mu);
    for (;;) {
      verify_cv.wait(l, [&] { return verify_next || open_next || stopping; });
      if (stopping) return;
      v1::NodeMessage m;
      if (verify_next) {
        v1::GemmChallenge c = *verify_next;
        verify_next.reset();
        l.unlock();
        spdlog::info("checking {} GPU(s) for the controller", opts.profile.gpus.size());
        checks = std::make_unique<GpuChecks>(GpuChecks::Run(c, opts.profile));
        *m.mutable_verify() = checks->report();
      } else {
        v1::GemmOpen o = *open_next;
        open_next.reset();
        l.unlock();
        if (checks && o.round() == checks->report().round()) {
          *m.mutable_verify_opening() = checks->Open(o);
          checks.reset();  // one opening per round: the products are no longer needed
        } else {
          spdlog::warn("the controller asked to open a GPU check this node does not hold");
        }
      }
      // Lost with the link if it dropped meanwhile: the next registration brings a new round.
      if (!stopping && m.msg_case() != v1::NodeMessage::MSG_NOT_SET) Send(m);
      l.lock();
    }
  }

  bool Send(const v1::NodeMessage& m) {
    std::lock_guard<std::mutex> l(link_mu);
    return stream && stream->Write(m);
  }

  void RunOnce();
  void Dispatch(const v1::ControllerMessage& m);
  void Launch(const v1::LaunchJob& l);
  void CancelJob(int64_t job_id, bool forget);
  void StartStep(const v1::StartStep& s);
  // Sends `m` for the step, or holds it while nobody follows the step.
  void Emit(StepIo& io, v1::NodeMessage m);
  void AttachStep(const v1::AttachStep& a);
  // Under `mu`: forgets the steps of a job that has ended here.
  void ForgetSteps(int64_t job_id);
  void ReapLoop();
  void WatchLoop();
  void OnBatchExit(int64_t job_id, int32_t restarts, int status);
  // Records a job's end in the journal and in `unacked`, then reports it. Called without `mu`.
  void ReportFinished(const v1::JobFinished& f, bool batch_host);
  // Reads the journal left by an earlier agent: its finishes are to be reported, the jobs it
  // was running are lost (their processes are killed).
  void Recover();
  void Journal(const v1::NodeJournalEntry& e);
  // Under `mu`: the controller has the end (or loss) of job_id's run `restarts` (-1: whichever
  // is pending); its journal entry goes, unless a newer run of the job holds it.
  void Forget(int64_t job_id, int32_t restarts);
  void SweepLeftovers(int64_t job_id, const std::string& tag);
  EnvList NodeEnv(const v1::LaunchJob& l, const std::string& dir) const;
};

EnvList NodeAgent::Impl::NodeEnv(const v1::LaunchJob& l, const std::string& dir) const {
  const auto& job = l.job();
  std::map<std::string, std::string> env;
  for (const auto& e : job.spec().env()) env[e.key()] = e.value();
  for (const auto& e : l.env()) env[e.key()] = e.value();
  const std::string& me = opts.profile.name;
  env["CORRAL_NODENAME"] = me;
  env["CORRAL_NODE_SESSION"] = RunTag(job.restarts());
  env["SLURMD_NODENAME"] = me;
  env["CORRAL_JOB_DIR"] = dir;
  // A private TMPDIR per job and node, removed when the job ends there. Open MPI keeps its
  // session directories under it: in a shared /tmp, those of daemons killed at the end of earlier
  // jobs stay behind and block a new job whose 16-bit job family matches ("mkdir ... File
  // exists", then mpirun waits forever), and simulated nodes on one host race to create the
  // same directory. mpirun forwards MCA parameters to its daemons but not TMPDIR, so each
  // node's daemon gets that node's directory.
  env["TMPDIR"] = dir;
  env.erase("CUDA_VISIBLE_DEVICES");
  int cpus_here = 0;
  std::string gpus;
  for (const auto& a : job.alloc()) {
    if (a.node() != me) continue;
    cpus_here += a.cpus();
    for (int32_t g : a.gpu_indices()) gpus += (gpus.empty() ? "" : ",") + std::to_string(g);
  }
  if (!gpus.empty()) {
    env["CUDA_VISIBLE_DEVICES"] = gpus;
    env["CORRAL_JOB_GPUS"] = gpus;
    env["SLURM_JOB_GPUS"] = gpus;
  }
  env["CORRAL_CPUS_ON_NODE"] = std::to_string(cpus_here);
  env["SLURM_CPUS_ON_NODE"] = std::to_string(cpus_here);
  std::string path = env.count("PATH") ? env["PATH"] : "/usr/local/bin:/usr/bin:/bin";
  env["PATH"] = opts.bin_dir + ":" + path;
  // Open MPI: ranks start through this node via corral-rsh, on the job's hosts.
  // The SLURM_* names above would make Open MPI use its Slurm support (srun): turn it off.
  env["OMPI_MCA_plm"] = "rsh";
  env["OMPI_MCA_ras"] = "^slurm";
  env["OMPI_MCA_plm_rsh_agent"] = opts.bin_dir + "/corral-rsh";
  env["OMPI_MCA_plm_rsh_no_tree_spawn"] = "1";
  env["OMPI_MCA_orte_default_hostfile"] = dir + "/hostfile";
  env["OMPI_MCA_rmaps_base_oversubscribe"] = "1";
  if (geteuid() == 0) {
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
  }
  if (opts.shared_host) {
    // Simulated nodes share one host (PLATFORM.md): no hwloc binding, TCP between "nodes".
    env["OMPI_MCA_rtc"] = "^hwloc";
    env["OMPI_MCA_btl"] = "self,tcp";
    env["OMPI_MCA_pml"] = "ob1";
    env["OMPI_MCA_btl_tcp_if_include"] = "lo";
    env["OMPI_MCA_oob_tcp_if_include"] = "lo";
    env["OMPI_MCA_hwloc_base_binding_policy"] = "none";
    env["OMPI_MCA_mpi_yield_when_idle"] = "1";
  }
  return EnvList(env.begin(), env.end());
}

void NodeAgent::Impl::Launch(const v1::LaunchJob& l) {
  const auto& info = l.job();
  int64_t id = info.id();
  std::string dir = opts.spool_dir + "/job-" + std::to_string(id);
  MakeJobDir(dir);
  LocalJob j;
  j.info = info;
  j.batch_host = l.batch_host();
  j.dir = dir;
  j.env = NodeEnv(l, dir);
  {
    // One line per node, in allocation order; components of a heterogeneous job that share
    // a node add up their slots.
    std::vector<std::pair<std::string, int>> slots;
    JobSpec spec = FromProto(info.spec());
    for (const auto& a : info.alloc()) {
      int cpt = std::max(spec.Component(a.component()).cpus_per_task, 1);
      int n = std::max(a.cpus() / cpt, 1);
      auto it = std::find_if(slots.begin(), slots.end(),
                             [&](const auto& p) { return p.first == a.node(); });
      if (it == slots.end()) {
        slots.emplace_back(a.node(), n);
      } else {
        it->second += n;
      }
    }
    std::string hostfile;
    for (const auto& [node, n] : slots) hostfile += node + " slots=" + std::to_string(n) + "\n";
    WriteNewFile(dir + "/hostfile", hostfile, 0644);
  }
  if (info.spec().time_limit_ms() > 0) {
    j.deadline = MonotonicNowMs() + info.spec().time_limit_ms();
  }
  std::unique_lock<std::mutex> lk(mu);
  if (auto it = jobs.find(id); it != jobs.end()) {
    if (it->second.info.restarts() == info.restarts()) return;  // a launch sent again
    // A new run of a requeued job while the earlier one is still being stopped here: the
    // earlier one's end is reported under its own restarts, which the controller ignores.
    spdlog::warn("job {}: run {} replaces run {} still on this node", id, info.restarts(),
                 it->second.info.restarts());
  }
  if (auto it = unacked.find(id); it != unacked.end() && it->second.restarts() == info.restarts()) {
    // This run already ended here and the controller has not taken its end yet: tell it again
    // rather than run the job twice.
    spdlog::warn("job {}: launched again after it ended here; reporting its end again", id);
    v1::NodeMessage m;
    *m.mutable_finished() = it->second;
    lk.unlock();
    Send(m);
    return;
  }
  v1::NodeJournalEntry entry;
  entry.set_job_id(id);
  entry.set_restarts(info.restarts());
  entry.set_session(RunTag(info.restarts()));
  entry.set_batch_host(j.batch_host);
  Journal(entry);  // before the script starts: a restart of this agent then knows it lost it
  if (!j.batch_host) {
    jobs[id] = std::move(j);
    return;
  }
  std::string script = dir + "/script";
  WriteNewFile(script, info.spec().script(), 0700);
  SpawnSpec sp;
  if (info.spec().script().rfind("#!", 0) == 0) {
    sp.argv = {script};
  } else {
    sp.argv = {"/bin/sh", script};
  }
  sp.argv.insert(sp.argv.end(), info.spec().args().begin(), info.spec().args().end());
  sp.env = j.env;
  sp.cwd = info.spec().workdir();
  sp.stdout_path = info.stdout_path();
  sp.stderr_path = info.stderr_path();
  auto pid = Spawn(sp);
  if (!pid.ok()) {
    spdlog::error("job {}: {}", id, pid.status().message());
    v1::JobFinished f;
    f.set_job_id(id);
    f.set_restarts(info.restarts());
    f.set_state("FAILED");
    f.set_exit_code(1);
    f.set_end_ms(WallNowMs());
    f.set_reason(pid.status().message());
    jobs.erase(id);
    lk.unlock();
    ReportFinished(f, true);
    return;
  }
  j.pid = *pid;
  batch_pids[*pid] = {id, info.restarts()};
  jobs[id] = std::move(j);
  cv.notify_all();
  spdlog::info("job {}: started pid {}", id, *pid);
}

void NodeAgent::Impl::CancelJob(int64_t job_id, bool forget) {
  std::vector<pid_t> leaders;
  int32_t run = -1;
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = jobs.find(job_id);
    if (it == jobs.end()) return;  // nothing of it runs here
    it->second.cancelled = true;
    run = it->second.info.restarts();
    if (it->second.pid > 0) leaders.push_back(it->second.pid);
    for (const auto& [sid, s] : steps)
      if (s.job_id == job_id && !s.exited) leaders.push_back(s.pid);
  }
  // Off the link thread: the grace period must not stall message handling.
  std::string tag = RunTag(run);
  int grace = opts.kill_grace_ms;
  std::thread([this, job_id, run, tag, leaders, grace, forget] {
    KillJobProcesses(job_id, tag, leaders, grace);
    if (forget) {
      std::lock_guard<std::mutex> l(mu);
      auto it = jobs.find(job_id);
      if (it != jobs.end() && it->second.pid == 0 && it->second.info.restarts() == run) {
        RemoveJobDir(it->second.dir);
        if (!it->second.batch_host) journal->Remove(job_id);  // a batch host's end removes it
        jobs.erase(it);
        ForgetSteps(job_id);
      }
    }
  }).detach();
}

void NodeAgent::Impl::StartStep(const v1::StartStep& s) {
  auto fail = [&](const std::string& why) {
    spdlog::warn("job {}: step {} not started: {}", s.job_id(), s.step_id(), why);
    v1::NodeMessage m;
    m.mutable_step_exit()->set_step_id(s.step_id());
    m.mutable_step_exit()->set_error(why);
    Send(m);
  };
  EnvList env;
  std::string cwd = s.cwd();
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = jobs.find(s.job_id());
    if (it == jobs.end()) {
      fail("node " + opts.profile.name + " does not run job " + std::to_string(s.job_id()));
      return;
    }
    env = it->second.env;
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
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    fail(std::string("pipe: ") + strerror(errno));
    return;
  }
  SpawnSpec sp;
  sp.argv.assign(s.argv().begin(), s.argv().end());
  sp.env = env;
  sp.cwd = cwd;
  sp.stdout_fd = out_pipe[1];
  sp.stderr_fd = err_pipe[1];
  std::unique_lock<std::mutex> lk(mu);
  auto pid = Spawn(sp);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!pid.ok()) {
    lk.unlock();
    close(out_pipe[0]);
    close(err_pipe[0]);
    fail(pid.status().message());
    return;
  }
  spdlog::info("job {}: step {} started pid {}", s.job_id(), s.step_id(), *pid);
  steps[s.step_id()] = LocalStep{s.job_id(), *pid, false, 0};
  step_pids[*pid] = s.step_id();
  auto io = std::make_shared<StepIo>();
  io->job_id = s.job_id();
  step_io[s.step_id()] = io;
  cv.notify_all();
  lk.unlock();
  int64_t step_id = s.step_id();
  // Forward output until both pipes close, then the exit status.
  std::thread([this, step_id, io, o = out_pipe[0], e = err_pipe[0]] {
    pollfd fds[2] = {{o, POLLIN, 0}, {e, POLLIN, 0}};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
      if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
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
    int code = ExitCodeOf(steps[step_id].status);
    int64_t job_id = steps[step_id].job_id;
    steps.erase(step_id);
    l.unlock();
    spdlog::info("job {}: step {} exited {}", job_id, step_id, code);
    v1::NodeMessage m;
    m.mutable_step_exit()->set_step_id(step_id);
    m.mutable_step_exit()->set_exit_code(code);
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

void NodeAgent::Impl::OnBatchExit(int64_t job_id, int32_t restarts, int status) {
  v1::JobFinished f;
  std::string dir;
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = jobs.find(job_id);
    if (it == jobs.end()) return;
    LocalJob& j = it->second;
    int code = ExitCodeOf(status);
    if (j.info.restarts() != restarts) {
      // An earlier run, replaced by a new launch (see Launch): nobody waits for its end.
      spdlog::info("job {}: earlier run {} ended (exit {})", job_id, restarts, code);
      return;
    }
    f.set_job_id(job_id);
    f.set_restarts(restarts);
    f.set_exit_code(code);
    f.set_end_ms(WallNowMs());
    if (j.timed_out) {
      f.set_state("TIMEOUT");
      f.set_reason("time limit reached");
    } else if (j.cancelled) {
      f.set_state("CANCELLED");
    } else {
      f.set_state(code == 0 ? "COMPLETED" : "FAILED");
    }
    dir = j.dir;
    jobs.erase(it);
    ForgetSteps(job_id);
  }
  // Whatever the script left behind on this node ends with it. A child caught in the middle of
  // an exec can hide its environment for a moment, so look again a little later.
  SweepLeftovers(job_id, RunTag(restarts));
  RemoveJobDir(dir);
  ReportFinished(f, true);
  // Logged once the end is in the journal: from here on a restart of this agent reports it.
  spdlog::info("job {}: {} (exit {})", job_id, f.state(), f.exit_code());
  {
    // WatchLoop sweeps again at these times (a thread per job cost more than the job).
    std::lock_guard<std::mutex> l(mu);
    TimeMs now = MonotonicNowMs();
    sweeps.emplace(now + 200, std::pair{job_id, RunTag(restarts)});
    sweeps.emplace(now + 1200, std::pair{job_id, RunTag(restarts)});
  }
}

void NodeAgent::Impl::Journal(const v1::NodeJournalEntry& e) {
  if (Status s = journal->Put(e); !s.ok()) {
    // The job still runs and its end is still reported; only a restart of this agent before
    // the controller has that end would lose it.
    spdlog::error("job {}: journal: {}", e.job_id(), s.message());
  }
}

void NodeAgent::Impl::ReportFinished(const v1::JobFinished& f, bool batch_host) {
  v1::NodeJournalEntry e;
  e.set_job_id(f.job_id());
  e.set_restarts(f.restarts());
  e.set_session(RunTag(f.restarts()));
  e.set_batch_host(batch_host);
  *e.mutable_finished() = f;
  Journal(e);  // before it is sent: an acknowledgement may come back at once
  {
    std::lock_guard<std::mutex> l(mu);
    unacked[f.job_id()] = f;
  }
  v1::NodeMessage m;
  *m.mutable_finished() = f;
  Send(m);
}

void NodeAgent::Impl::Forget(int64_t job_id, int32_t restarts) {
  bool gone = false;
  if (auto it = unacked.find(job_id);
      it != unacked.end() && (restarts < 0 || it->second.restarts() == restarts)) {
    unacked.erase(it);
    gone = true;
  }
  if (auto it = lost.find(job_id);
      it != lost.end() && (restarts < 0 || it->second.restarts() == restarts)) {
    lost.erase(it);
    gone = true;
  }
  if (gone && !jobs.count(job_id)) journal->Remove(job_id);
}

void NodeAgent::Impl::Recover() {
  std::vector<std::string> skipped;
  auto entries = journal->Load(&skipped);
  for (const auto& why : skipped) spdlog::warn("journal: skipped {}", why);
  for (const auto& e : entries) {
    if (e.has_finished()) {
      spdlog::info("job {}: ended {} before this agent started; reporting it", e.job_id(),
                   e.finished().state());
      unacked[e.job_id()] = e.finished();
      continue;
    }
    // The earlier agent ran it and cannot tell how it ends: whatever is left of it goes.
    int n = SignalJobProcesses(e.job_id(), e.session(), {}, SIGKILL);
    RemoveJobDir(opts.spool_dir + "/job-" + std::to_string(e.job_id()));
    if (!e.batch_host()) {
      // Only steps ran here; the controller sends the job again, as to a node that never had it.
      journal->Remove(e.job_id());
      continue;
    }
    spdlog::warn("job {}: lost by a restart of corral-node ({} process(es) killed)", e.job_id(), n);
    v1::LostJob l;
    l.set_job_id(e.job_id());
    l.set_restarts(e.restarts());
    l.set_reason("corral-node on " + opts.profile.name + " restarted while the job ran");
    lost[e.job_id()] = l;
  }
}

void NodeAgent::Impl::SweepLeftovers(int64_t job_id, const std::string& tag) {
  std::set<pid_t> tracked;
  {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& [pid, id] : batch_pids) tracked.insert(pid);
    for (const auto& [pid, id] : step_pids) tracked.insert(pid);
  }
  int n = KillLeftovers(job_id, tag, tracked);
  if (n > 0) spdlog::info("job {}: killed {} process(es) it left behind", job_id, n);
}

void NodeAgent::Impl::ReapLoop() {
  while (!stopping) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      // No children now: wait until one is started.
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::milliseconds(100));
      continue;
    }
    int64_t job_id = -1;
    int32_t restarts = 0;
    {
      std::lock_guard<std::mutex> l(mu);
      if (auto it = batch_pids.find(pid); it != batch_pids.end()) {
        std::tie(job_id, restarts) = it->second;
        batch_pids.erase(it);
      } else if (auto st = step_pids.find(pid); st != step_pids.end()) {
        auto& s = steps[st->second];
        s.exited = true;
        s.status = status;
        step_pids.erase(st);
        cv.notify_all();
      }
    }
    if (job_id >= 0) OnBatchExit(job_id, restarts, status);
  }
}

void NodeAgent::Impl::WatchLoop() {
  // Time limits: SIGTERM the job at its limit, SIGKILL after the grace period. And the later
  // leftover sweeps of finished jobs.
  while (!stopping) {
    std::vector<int64_t> expired;
    std::vector<std::pair<int64_t, std::string>> due;
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::milliseconds(200));
      TimeMs now = MonotonicNowMs();
      while (!sweeps.empty() && sweeps.begin()->first <= now) {
        due.push_back(sweeps.begin()->second);
        sweeps.erase(sweeps.begin());
      }
      for (auto& [id, j] : jobs) {
        if (j.pid > 0 && j.deadline > 0 && now >= j.deadline && !j.timed_out) {
          j.timed_out = true;
          expired.push_back(id);
        }
      }
    }
    for (int64_t id : expired) {
      spdlog::info("job {}: time limit reached", id);
      CancelJob(id, false);
    }
    for (const auto& [id, tag] : due) SweepLeftovers(id, tag);
  }
}

void NodeAgent::Impl::Dispatch(const v1::ControllerMessage& m) {
  if (m.has_registered()) {
    heartbeat_ms = std::max<int64_t>(m.registered().heartbeat_ms(), 10);
    if (m.registered().has_verify()) QueueVerifyWork(m);
    for (int64_t id : m.registered().orphaned()) {
      spdlog::warn("job {}: the controller no longer wants it; killing it", id);
      CancelJob(id, true);
    }
  } else if (m.has_launch()) {
    Launch(m.launch());
  } else if (m.has_cancel()) {
    CancelJob(m.cancel().job_id(), true);
  } else if (m.has_start_step()) {
    StartStep(m.start_step());
  } else if (m.has_kill_step()) {
    std::lock_guard<std::mutex> l(mu);
    auto it = steps.find(m.kill_step().step_id());
    if (it != steps.end() && !it->second.exited) kill(-it->second.pid, SIGKILL);
  } else if (m.has_verify_open()) {
    QueueVerifyWork(m);
  } else if (m.has_attach_step()) {
    AttachStep(m.attach_step());
  } else if (m.has_ack_step()) {
    std::lock_guard<std::mutex> l(mu);
    step_io.erase(m.ack_step().step_id());
  } else if (m.has_ack_finished()) {
    std::lock_guard<std::mutex> l(mu);
    Forget(m.ack_finished().job_id(), -1);
  }
}

void NodeAgent::Impl::RunOnce() {
  auto channel = DialController(opts.controller);
  auto stub = v1::NodeLink::NewStub(channel);
  grpc::ClientContext context;
  // What this node knows, in its registration: the jobs it runs, the ends the controller has not
  // acknowledged and the jobs a restart of this agent lost. The controller applies them all
  // before it judges anything lost; its reply acknowledges the ends and losses listed.
  v1::NodeMessage reg;
  auto* r = reg.mutable_register_();
  ToProto(opts.profile, r->mutable_profile());
  {
    std::lock_guard<std::mutex> l(mu);
    // A new link, maybe to a new controller: a step's output is held until its client follows
    // it again there.
    for (auto& [id, io] : step_io) {
      std::lock_guard<std::mutex> g(io->mu);
      io->routed = false;
    }
    for (const auto& [id, j] : jobs) {
      auto* run = r->add_running();
      run->set_job_id(id);
      run->set_restarts(j.info.restarts());
    }
    for (const auto& [id, f] : unacked) *r->add_finished() = f;
    for (const auto& [id, l] : lost) *r->add_lost() = l;
  }
  bool ok;
  {
    // The registration is the stream's first message: nothing else may be written before it.
    std::lock_guard<std::mutex> l(link_mu);
    ctx = &context;
    stream = stub->Connect(&context);
    ok = stream->Write(reg);
  }
  // Heartbeats until the link ends; woken at once then, so that a lost link is redialled
  // without waiting out the interval.
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  bool link_up = ok;
  std::thread hb([&] {
    std::unique_lock<std::mutex> l(hb_mu);
    while (!hb_cv.wait_for(l, std::chrono::milliseconds(heartbeat_ms),
                           [&] { return !link_up || stopping; })) {
      l.unlock();
      v1::NodeMessage m;
      m.mutable_heartbeat()->set_now_ms(WallNowMs());
      bool sent = Send(m);
      l.lock();
      if (!sent) break;
    }
  });
  v1::ControllerMessage in;
  bool registered = false;
  bool read_ended = false;
  while (ok) {
    if (!stream->Read(&in)) {
      read_ended = true;
      break;
    }
    if (in.has_registered() && !registered) {
      registered = true;
      spdlog::info("registered with {} as {}", opts.controller, opts.profile.name);
      std::lock_guard<std::mutex> l(mu);
      for (const auto& f : r->finished()) Forget(f.job_id(), f.restarts());
      for (const auto& lj : r->lost()) Forget(lj.job_id(), lj.restarts());
    }
    Dispatch(in);
  }
  {
    std::lock_guard<std::mutex> l(hb_mu);
    link_up = false;
  }
  hb_cv.notify_all();
  grpc::Status st;
  {
    std::lock_guard<std::mutex> l(link_mu);
    // A stream whose reads ended has its status waiting; one that failed to send is cancelled.
    if (!read_ended) context.TryCancel();
    st = stream->Finish();
    stream.reset();
    ctx = nullptr;
  }
  hb.join();
  if (!stopping) {
    spdlog::warn("link to {} lost: {}", opts.controller,
                 st.ok() ? std::string("closed") : st.error_message());
  }
}

NodeAgent::NodeAgent(AgentOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
NodeAgent::~NodeAgent() = default;

Status NodeAgent::Run() {
  Impl& I = *impl_;
  std::string state = I.opts.state_dir.empty() ? I.opts.spool_dir + "/state" : I.opts.state_dir;
  auto journal = JobJournal::Open(state + "/jobs");
  if (!journal.ok()) return journal.status();
  I.journal = std::move(*journal);
  I.Recover();
  // Orphaned descendants of jobs come back to us, so they can be reaped and found.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::error_code ec;
  fs::create_directories(I.opts.spool_dir, ec);
  std::thread reaper([&] { I.ReapLoop(); });
  std::thread watcher([&] { I.WatchLoop(); });
  int backoff = 100;
  while (!I.stopping) {
    TimeMs t0 = MonotonicNowMs();
    I.RunOnce();
    if (I.stopping) break;
    if (MonotonicNowMs() - t0 > 5000) backoff = 100;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff = std::min(backoff * 2, 2000);
  }
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> l(I.mu);
    for (const auto& [id, j] : I.jobs) ids.push_back(id);
  }
  for (int64_t id : ids) {
    std::vector<pid_t> leaders;
    std::string tag;
    {
      std::lock_guard<std::mutex> l(I.mu);
      if (I.jobs[id].pid > 0) leaders.push_back(I.jobs[id].pid);
      tag = I.RunTag(I.jobs[id].info.restarts());
    }
    KillJobProcesses(id, tag, leaders, 1000);
  }
  I.cv.notify_all();
  reaper.detach();
  watcher.join();
  if (I.verifier.joinable()) I.verifier.join();  // Stop() woke it
  return Status::Ok();
}

void NodeAgent::Stop() {
  impl_->stopping = true;
  {
    std::lock_guard<std::mutex> l(impl_->verify_mu);
    impl_->verify_cv.notify_all();
  }
  std::lock_guard<std::mutex> l(impl_->link_mu);
  if (impl_->ctx) impl_->ctx->TryCancel();
  impl_->cv.notify_all();
}

}  // namespace corral
