// corral-node's jobs: launch, end, cancel, the journal, time limits and leftovers
// (node_agent_impl.h).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <tuple>

#include "common/log.h"
#include "fabric/convert.h"
#include "fabric/nebula.h"
#include "launcher/cpu_bind.h"
#include "launcher/node_agent_impl.h"

namespace corral {

namespace fs = std::filesystem;

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
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
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

EnvList NodeAgent::Impl::NodeEnv(const v1::LaunchJob& l, const std::string& dir) const {
  const auto& job = l.job();
  std::map<std::string, std::string> env;
  for (const auto& e : job.spec().env()) env[e.key()] = e.value();
  for (const auto& e : l.env()) env[e.key()] = e.value();
  const std::string& me = opts.profile.name;
  env["CORRAL_NODENAME"] = me;
  env["CORRAL_CA"] = opts.spool_dir + "/ca.pem";
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
  // CUDA numbers devices as the profile (and /dev/nvidiaN) does, not fastest first.
  env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
  env.erase("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE");
  int cpus_here = 0, share = 0;
  std::string gpus;
  for (const auto& a : job.alloc()) {
    if (a.node() != me) continue;
    cpus_here += a.cpus();
    for (int32_t g : a.gpu_indices()) gpus += (gpus.empty() ? "" : ",") + std::to_string(g);
    if (a.gpu_milli() > 0 && a.gpu_milli() < 1000) share = a.gpu_milli();
  }
  if (!gpus.empty()) {
    env["CUDA_VISIBLE_DEVICES"] = gpus;
    env["CORRAL_JOB_GPUS"] = gpus;
    env["SLURM_JOB_GPUS"] = gpus;
  }
  if (share > 0) {
    // A share of one GPU: its fraction for the job to cap its memory by (PyTorch's
    // set_per_process_memory_fraction), and the SM share an MPS daemon enforces where it runs.
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, "%d.%03d", share / 1000, share % 1000);
    env["CORRAL_GPU_SHARE"] = fraction;
    env["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = std::to_string(std::max(1, share / 10));
  } else {
    env.erase("CORRAL_GPU_SHARE");
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
  } else if (!opts.profile.overlay_ip.empty()) {
    // Across machines, ranks and daemons talk over the mesh, which reaches a node behind a NAT
    // too: Open MPI takes it as a CIDR (PLATFORM.md), UCX as this node's own tun device. Ranks
    // that busy-poll would starve nebula on a small machine.
    env["OMPI_MCA_btl_tcp_if_include"] = kOverlayCidr;
    env["OMPI_MCA_oob_tcp_if_include"] = kOverlayCidr;
    env["OMPI_MCA_mpi_yield_when_idle"] = "1";
    env["UCX_NET_DEVICES"] = opts.overlay_dev;
    // Open MPI's pml ucx takes only InfiniBand-like devices by default: let it take the tun
    // device over TCP. It is forced where corral-node found UCX can use the device, and ob1/TCP
    // elsewhere (bench/fabric measures both).
    env["OMPI_MCA_pml"] = opts.overlay_pml;  // chosen, and the choice logged, at start
    env["CORRAL_MPI_TRANSPORT"] = opts.overlay_pml == "ucx" ? "ucx" : "ob1/tcp";
    env["OMPI_MCA_pml_ucx_tls"] = "any";
    env["OMPI_MCA_pml_ucx_devices"] = "any";
    env["UCX_TLS"] = "tcp,sm,self";
    env["CORRAL_OVERLAY_IP"] = opts.profile.overlay_ip;
  }
  return EnvList(env.begin(), env.end());
}

// A GPU job's part here gets CPUs of its GPUs' NUMA nodes, apart from those of the other jobs
// here where it can (cpu_bind.h). Called with mu held.
void NodeAgent::Impl::GiveCpus(LocalJob* j) const {
  std::vector<int32_t> near;
  int32_t cpus = 0;
  for (const auto& a : j->info.alloc()) {
    if (a.node() != opts.profile.name) continue;
    cpus += a.cpus();
    for (int32_t g : a.gpu_indices()) {
      if (g >= 0 && static_cast<size_t>(g) < opts.profile.gpus.size()) {
        near.push_back(opts.profile.gpus[g].numa);
      }
    }
  }
  if (near.empty()) return;
  std::set<int32_t> busy;
  for (const auto& [id, other] : jobs) busy.insert(other.pus.begin(), other.pus.end());
  j->pus = PickCpus(opts.numa_cpus, near, cpus, busy);
  if (!j->pus.empty()) j->env.emplace_back("CORRAL_CPU_BIND", CpuList(j->pus));
}

void NodeAgent::Impl::SyncPeers(const std::string& also) {
  if (!opts.on_peers) return;
  std::set<std::string> want;
  auto add = [&](const std::string& list) {
    for (size_t b = 0; b < list.size();) {
      size_t e = list.find(',', b);
      if (e == std::string::npos) e = list.size();
      if (e > b) want.insert(list.substr(b, e - b));
      b = e + 1;
    }
  };
  add(also);
  {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& [id, j] : jobs) {
      for (const auto& [k, v] : j.env) {
        if (k == "CORRAL_OVERLAY_PEERS") add(v);
      }
    }
  }
  std::lock_guard<std::mutex> g(peers_mu);
  if (want == last_peers) return;
  last_peers = want;
  opts.on_peers(want);
}

void NodeAgent::Impl::Launch(const v1::LaunchJob& l) {
  const auto& info = l.job();
  // The firewall opens to the job's nodes before anything of it runs.
  for (const auto& e : l.env()) {
    if (e.key() == "CORRAL_OVERLAY_PEERS") SyncPeers(e.value());
  }
  int64_t id = info.id();
  std::string dir = JobDir(id, info.restarts());
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
    if (info.spec().signal() > 0) {
      j.signal_at = std::max<TimeMs>(j.deadline - int64_t{info.spec().signal_secs()} * 1000, 1);
    }
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
  GiveCpus(&j);
  Status contained = Contain(&j);
  v1::NodeJournalEntry entry;
  entry.set_job_id(id);
  entry.set_restarts(info.restarts());
  entry.set_session(RunTag(info.restarts()));
  entry.set_batch_host(j.batch_host);
  Journal(entry);  // before the script starts: a restart of this agent then knows it lost it
  if (!j.batch_host && contained.ok()) {
    jobs[id] = std::move(j);
    return;
  }
  std::string script = dir + "/script";
  if (contained.ok() &&
      (!WriteNewFile(script, info.spec().script(), 0700) || !GiveToJobUser(j, script))) {
    contained = Status::Internal("cannot write the job's script to " + script);
  }
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
  if (opts.bind_cpus) sp.cpus = j.pus;
  StartAs(j, &sp);
  auto pid = contained.ok() ? Spawn(sp) : Result<pid_t>(contained);
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
    Uncontain(j.cgroup);
    RemoveJobDir(dir);
    ReportFinished(f, j.batch_host);
    return;
  }
  j.pid = *pid;
  batch_pids[*pid] = {id, info.restarts()};
  jobs[id] = std::move(j);
  cv.notify_all();
  spdlog::info("job {}: started pid {}", id, *pid);
}

void NodeAgent::Impl::CancelJob(int64_t job_id, bool forget, int64_t grace_ms) {
  std::vector<pid_t> leaders;
  int32_t run = -1;
  std::string cgroup;
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = jobs.find(job_id);
    if (it == jobs.end()) return;  // nothing of it runs here
    it->second.cancelled = true;
    run = it->second.info.restarts();
    cgroup = it->second.cgroup;
    if (it->second.pid > 0) leaders.push_back(it->second.pid);
    for (const auto& [sid, s] : steps)
      if (s.job_id == job_id && !s.exited) leaders.push_back(s.pid);
  }
  // Off the link thread: the grace period must not stall message handling.
  std::string tag = RunTag(run);
  int grace = grace_ms > 0 ? static_cast<int>(std::min<int64_t>(grace_ms, 24 * 3600 * 1000LL))
                           : opts.kill_grace_ms;
  std::thread([this, job_id, run, tag, leaders, grace, forget, cgroup] {
    if (cgroup.empty()) {
      KillJobProcesses(job_id, tag, leaders, grace);
    } else {
      // Its cgroup holds every process of the job, whatever it did to escape a session scan.
      KillContained(cgroup, grace);
    }
    if (forget) {
      std::lock_guard<std::mutex> l(mu);
      auto it = jobs.find(job_id);
      if (it != jobs.end() && it->second.pid == 0 && it->second.info.restarts() == run) {
        RemoveJobDir(it->second.dir);
        Uncontain(it->second.cgroup);
        if (!it->second.batch_host) journal->Remove(job_id);  // a batch host's end removes it
        jobs.erase(it);
        ForgetSteps(job_id);
        CloseTunnels(job_id);
      }
    }
  }).detach();
}

void NodeAgent::Impl::OnBatchExit(int64_t job_id, int32_t restarts, int status) {
  v1::JobFinished f;
  std::string dir, cgroup;
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
    const CgroupUsage used =
        cgroups && !j.cgroup.empty() ? cgroups->Usage(j.cgroup) : CgroupUsage{};
    if (j.timed_out) {
      f.set_state("TIMEOUT");
      f.set_reason("time limit reached");
    } else if (j.cancelled) {
      f.set_state("CANCELLED");
    } else if (used.oom_kills > 0) {
      // As Slurm does: a process killed at the memory limit makes the job OUT_OF_MEMORY, even
      // when its script went on to exit 0.
      f.set_state("OUT_OF_MEMORY");
      int64_t mib = 0;
      for (const auto& a : j.info.alloc()) mib += a.node() == opts.profile.name ? a.mem_mib() : 0;
      f.set_reason("out of memory: the kernel killed " + std::to_string(used.oom_kills) +
                   " process(es) at the job's limit of " + std::to_string(mib) + " MiB on " +
                   opts.profile.name);
    } else {
      f.set_state(code == 0 ? "COMPLETED" : "FAILED");
    }
    dir = j.dir;
    cgroup = j.cgroup;
    if (!cgroup.empty()) *f.mutable_usage() = FinalUsage(j, used);
    jobs.erase(it);
    ForgetSteps(job_id);
    CloseTunnels(job_id);
  }
  // Whatever the script left behind on this node ends with it: all of its cgroup, or else what
  // a sweep finds (a child caught in the middle of an exec can hide its environment for a
  // moment, so look again a little later).
  const bool contained = !cgroup.empty();
  if (contained) {
    Uncontain(cgroup);
  } else {
    SweepLeftovers(job_id, RunTag(restarts));
  }
  RemoveJobDir(dir);
  ReportFinished(f, true);
  // Logged once the end is in the journal: from here on a restart of this agent reports it.
  spdlog::info("job {}: {} (exit {})", job_id, f.state(), f.exit_code());
  if (!contained) {
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
    RemoveJobDir(JobDir(e.job_id(), e.restarts()));
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
    struct rusage ru {};
    pid_t pid = wait4(-1, &status, 0, &ru);
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
      } else if (auto tu = tunnel_pids.find(pid); tu != tunnel_pids.end()) {
        std::lock_guard<std::mutex> g(tu->second->mu);
        tu->second->exited = true;
        tu->second->status = status;
        tu->second->Wake();
        tunnel_pids.erase(tu);
      } else if (auto st = step_pids.find(pid); st != step_pids.end()) {
        auto& s = steps[st->second];
        s.exited = true;
        s.status = status;
        s.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * int64_t{1000} +
                   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
        s.max_rss_bytes = int64_t{ru.ru_maxrss} * 1024;  // Linux counts it in KiB
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
    SyncPeers();  // a job that ended here closes the firewall to its peers
    std::vector<int64_t> expired;
    std::vector<std::pair<int64_t, std::string>> due;
    struct Signal {
      int64_t job;
      std::string tag;
      pid_t pid;
      int sig;
      bool batch_only;
    };
    std::vector<Signal> signals;
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::milliseconds(200));
      TimeMs now = MonotonicNowMs();
      if (now >= next_sample) {
        next_sample = now + std::max<int64_t>(opts.sample_ms, 100);
        l.unlock();
        SampleUsage();
        l.lock();
      }
      while (!sweeps.empty() && sweeps.begin()->first <= now) {
        due.push_back(sweeps.begin()->second);
        sweeps.erase(sweeps.begin());
      }
      for (auto& [id, j] : jobs) {
        if (j.pid > 0 && j.signal_at > 0 && now >= j.signal_at) {
          j.signal_at = 0;  // once
          signals.push_back({id, RunTag(j.info.restarts()), j.pid, j.info.spec().signal(),
                             j.info.spec().signal_batch_only()});
        }
        if (j.pid > 0 && j.deadline > 0 && now >= j.deadline && !j.timed_out) {
          j.timed_out = true;
          expired.push_back(id);
        }
      }
    }
    for (const Signal& s : signals) {
      int n = s.batch_only ? (kill(s.pid, s.sig) == 0 ? 1 : 0)
                           : SignalJobProcesses(s.job, s.tag, {s.pid}, s.sig);
      spdlog::info("job {}: signal {} before its time limit ({} process(es))", s.job, s.sig, n);
    }
    for (int64_t id : expired) {
      spdlog::info("job {}: time limit reached", id);
      CancelJob(id, false);
    }
    for (const auto& [id, tag] : due) SweepLeftovers(id, tag);
  }
}

}  // namespace corral
