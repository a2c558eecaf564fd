// The inside of NodeAgent, shared by the files that implement it: node_agent.cc (the link to
// corrald and the agent's life), node_jobs.cc (jobs: launch, end, cancel, the journal, time
// limits, leftovers) and node_steps.cc (steps started through Exec). Everything below is
// guarded by Impl::mu unless its comment says otherwise.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/time.h"
#include "fabric/channel.h"
#include "fabric/tunnel_window.h"
#include "launcher/cgroup.h"
#include "launcher/gpu_check.h"
#include "launcher/journal.h"
#include "launcher/node_agent.h"
#include "launcher/process.h"

namespace corral {

struct LocalJob {
  v1::JobInfo info;  // includes the full spec; info.restarts() names this run of the job
  EnvList env;       // the job's complete environment on this node
  bool batch_host = false;
  pid_t pid = 0;         // batch script, when this node runs it
  TimeMs deadline = 0;   // monotonic; 0 = none
  TimeMs signal_at = 0;  // monotonic: when --signal is due; 0 = none, or sent
  bool cancelled = false, timed_out = false;
  std::string dir;
  std::vector<int32_t> pus;  // the CPUs it is given on this node (cpu_bind.h); empty: none
  std::string cgroup;        // its group here (cgroup.h); empty: not contained
  std::vector<std::string> cgroup_procs;  // the files a process joins that group through
  std::string user;    // who its processes run as, "UID:GID[:GID,...]" (corral-exec); empty: us
  v1::JobUsage usage;  // its cgroup's last sample (node_contain.cc)
  bool usage_fresh = false;  // sampled since the last heartbeat took it
};

// A job's directory holds its script and hostfile, and is its TMPDIR (node_jobs.cc).
void MakeJobDir(const std::string& dir);
void RemoveJobDir(const std::string& dir);
bool WriteNewFile(const std::string& path, const std::string& data, mode_t mode);
// Makes the spool directory private, or says why it cannot be trusted: it must be a directory
// of this agent's own (not a symlink). 0700; 0711 when the agent is root, so that a job's user
// can reach its own job directory (0700, theirs) by name, though not list the others.
Status PrivateSpool(const std::string& dir);
struct LocalJob;
// A job's usage at its end on this node, from its cgroup's counters (node_contain.cc).
v1::JobUsage FinalUsage(const LocalJob& j, const CgroupUsage& u);
// Gives `path` to the user job `j` runs as (node_contain.cc); true when there is none to give.
bool GiveToJobUser(const LocalJob& j, const std::string& path);

struct LocalStep {
  int64_t job_id = 0;
  pid_t pid = 0;
  bool exited = false;
  int status = 0;
  // For its row in /steps (StepExit): its job's run, command line, start (wall clock), and
  // what wait4 said it and its waited-for descendants used.
  int32_t restarts = 0;
  std::string command;
  int64_t start_ms = 0;
  int64_t cpu_ms = 0, max_rss_bytes = 0;
  // ExecRequest.feed_stdin: the pipe's write end, until a tunnel takes it (TunnelOpen.step_stdin)
  // or `stdin_until` passes; then the step reads EOF.
  int stdin_fd = -1;
  int64_t stdin_until = 0;  // MonotonicNowMs
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

// A tunnel (`corral attach`, `corral forward`; fabric/tunnel_window.h) served here: a shell on a
// pty (or pipes), or a connection to a port of the job. Its thread moves the bytes
// (node_tunnels.cc); the link's reader hands it frames through `in`.
struct LocalTunnel {
  int64_t id = 0;
  int64_t job_id = 0;
  int read_fd = -1, write_fd = -1;  // the same fd for a pty or a socket
  bool socket = false, pty = false;
  int port = 0;            // for a socket: the job's port, connected to on the tunnel's thread
  int64_t step = 0;        // feeds this step's stdin (write_fd); ends when the step does
  int wake[2] = {-1, -1};  // written to wake the thread
  pid_t pid = 0;           // the shell; 0 for a port
  std::mutex mu;           // guards what follows; taken after Impl::mu, never before
  std::string in;          // data from the client, not yet written
  bool in_eof = false;     // the client sends no more
  bool closed = false;     // the client went away, or the job ended: end now
  std::string end_why;     // when it ended here (its job did): told to the client
  uint64_t credit = 0;     // returned by the client, not yet added to the send window
  ReceiveWindow rx;        // the client's data: received, and not yet credited back
  bool has_resize = false;
  v1::TunnelSize resize;
  bool exited = false;  // the shell's exit was reaped
  int status = 0;
  void Wake() const {  // under mu: the pipe is closed under it
    char c = 1;
    if (wake[1] >= 0) {
      [[maybe_unused]] ssize_t n = write(wake[1], &c, 1);
    }
  }
};

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
  std::unique_ptr<Cgroups> cgroups;     // set by Run() before anything starts; null: none
  std::map<pid_t, std::pair<int64_t, int32_t>> batch_pids;    // pid -> job id, restarts
  std::map<pid_t, int64_t> step_pids;                         // pid -> step id
  std::map<int64_t, std::shared_ptr<LocalTunnel>> tunnels;    // by tunnel id
  std::map<pid_t, std::shared_ptr<LocalTunnel>> tunnel_pids;  // a shell's pid, until reaped
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
    } else if (m.has_verify()) {
      verify_next = m.verify();  // a periodic check
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
  void GiveCpus(LocalJob* j) const;
  // The identity and the cgroup of the job's processes here (node_contain.cc). Fails, saying
  // why, when the job cannot run as anyone here or its cgroup cannot be made.
  Status Contain(LocalJob* j);
  // Fills in how `sp` starts a process of job `j`: through corral-exec, in its cgroup, as its
  // user, where that applies.
  void StartAs(const LocalJob& j, SpawnSpec* sp) const;
  // Ends every process of job `j`'s cgroup and removes it; true once it is gone.
  bool Uncontain(const std::string& cgroup) const;
  // SIGTERM to every process of the cgroup, then SIGKILL to what is left after `grace_ms`.
  void KillContained(const std::string& cgroup, int grace_ms) const;
  // Samples the cgroup of every contained job (WatchLoop, every AgentOptions::sample_ms).
  void SampleUsage();
  // The samples not yet sent, for a heartbeat; marks them sent.
  std::vector<v1::JobUsage> FreshUsage();
  TimeMs next_sample = 0;  // WatchLoop's
  // SIGTERM, then SIGKILL after `grace_ms` (<= 0: --kill-grace), to every process of the job.
  void CancelJob(int64_t job_id, bool forget, int64_t grace_ms = 0);
  void StartStep(const v1::StartStep& s);
  // Sends `m` for the step, or holds it while nobody follows the step.
  void Emit(StepIo& io, v1::NodeMessage m);
  void AttachStep(const v1::AttachStep& a);
  // Under `mu`: forgets the steps of a job that has ended here.
  void ForgetSteps(int64_t job_id);
  // A tunnel frame from the controller (node_tunnels.cc).
  void TunnelFrame(const v1::TunnelFrame& f);
  void OpenTunnel(const v1::TunnelFrame& f);
  void TunnelLoop(std::shared_ptr<LocalTunnel> t);
  // Under `mu`: ends the tunnels of `job_id` (0: every tunnel, when the link is lost).
  void CloseTunnels(int64_t job_id);
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
  // The directory of a run of a job: job-ID for its first, job-ID.RESTARTS for later ones, so
  // that the end of an earlier run never takes a later run's files.
  std::string JobDir(int64_t job_id, int32_t restarts) const {
    return opts.spool_dir + "/job-" + std::to_string(job_id) +
           (restarts > 0 ? "." + std::to_string(restarts) : "");
  }
  EnvList NodeEnv(const v1::LaunchJob& l, const std::string& dir) const;
  // Opens the mesh's firewall to the nodes of the jobs here (their CORRAL_OVERLAY_PEERS) and
  // `also`, and closes it to the rest, through AgentOptions::on_peers when that changes. Called
  // without mu.
  void SyncPeers(const std::string& also = "");
  std::mutex peers_mu;  // guards last_peers
  std::set<std::string> last_peers;
};

}  // namespace corral
