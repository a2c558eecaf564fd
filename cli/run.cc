// corral run: like srun. Allocates resources, runs COMMAND once per task on the allocated
// nodes (through corral-node, as Exec steps), relays their output and exits with their code.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "fabric/convert.h"
#include "fabric/exec_client.h"
#include "fabric/tunnel_client.h"

namespace corral::cli {

namespace {

struct Task {
  int32_t rank = 0, local = 0, node_index = 0;
  std::string node;
};

// Tasks in block order: as many on each node as its CPUs hold, up to ntasks.
std::vector<Task> PlaceTasks(const v1::JobInfo& job) {
  std::vector<Task> tasks;
  int32_t cpt = std::max(job.spec().cpus_per_task(), 1);
  int32_t ntasks = std::max(job.spec().ntasks(), 1);
  for (int k = 0; k < job.alloc_size() && static_cast<int32_t>(tasks.size()) < ntasks; ++k) {
    int32_t here = std::max(job.alloc(k).cpus() / cpt, 1);
    for (int32_t l = 0; l < here && static_cast<int32_t>(tasks.size()) < ntasks; ++l) {
      tasks.push_back({static_cast<int32_t>(tasks.size()), l, k, job.alloc(k).node()});
    }
  }
  return tasks;
}

// Writes output, whole lines at a time when labelled, under one lock.
class Output {
 public:
  explicit Output(bool label) : label_(label) {}
  void Write(int32_t rank, bool err, const std::string& data, std::string* partial) {
    std::lock_guard<std::mutex> l(mu_);
    std::ostream& o = err ? std::cerr : std::cout;
    if (!label_) {
      o << data << std::flush;
      return;
    }
    partial->append(data);
    size_t nl;
    while ((nl = partial->find('\n')) != std::string::npos) {
      o << rank << ": " << partial->substr(0, nl + 1);
      partial->erase(0, nl + 1);
    }
    o << std::flush;
  }
  void Flush(int32_t rank, bool err, std::string* partial) {
    if (partial->empty()) return;
    std::lock_guard<std::mutex> l(mu_);
    (err ? std::cerr : std::cout) << rank << ": " << *partial << "\n" << std::flush;
    partial->clear();
  }

 private:
  bool label_;
  std::mutex mu_;
};

// Where `corral run`'s stdin goes (--input): to one task, read from a descriptor.
struct Input {
  int32_t task = -1;  // -1: none
  int fd = -1;
};

// True when `fd` is /dev/null or closed: there is nothing to forward.
bool NothingToRead(int fd) {
  struct stat st {
  }, null{};
  if (fstat(fd, &st) != 0) return true;
  return S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && st.st_rdev == null.st_rdev;
}

Result<Input> ChooseInput(const std::string& mode, size_t ntasks) {
  Input in;
  if (mode == "none") return in;
  if (mode.empty() || std::all_of(mode.begin(), mode.end(), ::isdigit)) {
    in.task = 0;
    if (!mode.empty()) {
      const unsigned long task = mode.size() > 9 ? ntasks : std::stoul(mode);
      if (task >= ntasks) {
        return Status::Invalid("--input=" + mode + ": there are tasks 0 to " +
                               std::to_string(ntasks - 1));
      }
      in.task = static_cast<int32_t>(task);
    }
    if (NothingToRead(0)) in.task = -1;
    in.fd = 0;
    return in;
  }
  in.fd = open(mode.c_str(), O_RDONLY | O_CLOEXEC);
  if (in.fd < 0) return Status::Invalid("--input=" + mode + ": " + strerror(errno));
  in.task = 0;
  return in;
}

// Feeds `fd` to a step's stdin through a tunnel (TunnelOpen.step_stdin) until it reads EOF or
// the step ends. Detached: it owns what it uses.
std::future<void> FeedStdin(const Client& c, int64_t job, const std::string& node, int64_t step,
                            int fd) {
  std::promise<void> done;
  std::future<void> f = done.get_future();
  std::thread([address = c.address, creds = c.creds, job, node, step, fd,
               done = std::move(done)]() mutable {
    v1::TunnelOpen open;
    open.set_job_id(job);
    open.set_node(node);
    open.set_step_stdin(step);
    TunnelEnds ends;
    ends.in_fd = fd;
    TunnelOutcome r = RunTunnel(DialController(address, creds), address, open, ends);
    if (!r.status.ok() && r.opened) {
      std::cerr << "corral run: stdin: " << r.status.message() << "\n";
    }
    done.set_value();
  }).detach();
  return f;
}

int RunTask(Client& c, const v1::JobInfo& job, const Task& t, const std::vector<std::string>& argv,
            Output* out, int stdin_fd) {
  v1::ExecRequest req;
  req.set_job_id(job.id());
  req.set_node(t.node);
  for (const auto& a : argv) req.add_argv(a);
  auto env = [&](const std::string& k, const std::string& v) {
    auto* e = req.add_env();
    e->set_key(k);
    e->set_value(v);
  };
  env("SLURM_PROCID", std::to_string(t.rank));
  env("CORRAL_PROCID", std::to_string(t.rank));
  env("SLURM_LOCALID", std::to_string(t.local));
  env("CORRAL_LOCALID", std::to_string(t.local));
  env("SLURM_NODEID", std::to_string(t.node_index));
  env("SLURM_STEP_ID", "0");
  req.set_cwd(job.spec().workdir());
  req.set_feed_stdin(stdin_fd >= 0);
  std::string out_part, err_part;
  std::future<void> fed;
  ExecOutcome r = RunExec(
      c.address, c.creds, req,
      [&](const std::string& d) { out->Write(t.rank, false, d, &out_part); },
      [&](const std::string& d) { out->Write(t.rank, true, d, &err_part); }, 600000,
      [&](int64_t step) {
        if (stdin_fd >= 0) fed = FeedStdin(c, job.id(), t.node, step, stdin_fd);
      });
  // The node ends the stdin tunnel with the step; a broken link may leave it waiting.
  if (fed.valid()) fed.wait_for(std::chrono::seconds(2));
  out->Flush(t.rank, false, &out_part);
  out->Flush(t.rank, true, &err_part);
  if (!r.error.empty()) {
    std::cerr << "corral run: task " << t.rank << " on " << t.node << ": " << r.error << "\n";
    return 1;
  }
  return r.exit_code;
}

}  // namespace

int Run(const Args& args) {
  auto cmd = ParseSubmit(args, CurrentContext(), [](const std::string&) -> Result<std::string> {
    return std::string("#!/bin/sh\n# corral run\n");
  });
  if (!cmd.ok()) {
    std::cerr << "corral run: " << cmd.status().message() << "\n";
    return kExitUsage;
  }
  if (cmd->help) {
    std::cout << "Usage: corral run [OPTIONS] COMMAND [ARGS...]\n\n"
                 "Runs COMMAND once per task (-n) on newly allocated nodes, like srun, and "
                 "exits with the first non-zero exit code of its tasks. Takes the resource "
                 "options of corral submit, and --label to prefix each line with its task.\n\n"
              << SubmitHelp();
    return kExitOk;
  }
  std::vector<std::string> argv;
  if (!cmd->script_path.empty()) {
    argv.push_back(cmd->script_path);
    argv.insert(argv.end(), cmd->script_args.begin(), cmd->script_args.end());
  } else {
    std::string wrapped = cmd->spec.script.substr(cmd->spec.script.find('\n') + 1);
    argv = {"/bin/sh", "-c", wrapped};
  }
  if (!cmd->spec.array_indices.empty()) {
    std::cerr << "corral run: --array is for corral submit\n";
    return kExitUsage;
  }
  auto input = ChooseInput(cmd->input, static_cast<size_t>(std::max(cmd->spec.ntasks, 1)));
  if (!input.ok()) {
    std::cerr << "corral run: " << input.status().message() << "\n";
    return kExitUsage;
  }
  JobSpec spec = cmd->spec;
  spec.interactive = true;
  spec.script.clear();
  spec.args.clear();
  if (!cmd->script_path.empty() && spec.name == std::filesystem::path(cmd->script_path).filename())
    spec.name = std::filesystem::path(cmd->script_path).filename();
  Client c(ResolveController(cmd->controller));
  v1::SubmitRequest sreq;
  ToProto(spec, sreq.add_jobs());
  v1::SubmitReply srep;
  if (Status s = c.Call(&v1::Controller::Stub::Submit, sreq, &srep); !s.ok()) {
    return Fail("run", s);
  }
  int64_t id = srep.ids(0);
  // Ctrl-C cancels the allocation, as with srun.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, id, addr = c.address]() mutable {
    int sig = 0;
    sigwait(&set, &sig);
    Client cc(addr);
    v1::CancelRequest req;
    req.add_ids(id);
    v1::CancelReply rep;
    (void)cc.Call(&v1::Controller::Stub::Cancel, req, &rep, 5000);
    std::cerr << "corral run: job " << id << " cancelled\n";
    _exit(128 + sig);
  }).detach();

  v1::WaitReply wrep;
  for (;;) {
    v1::WaitRequest wreq;
    wreq.add_ids(id);
    wreq.set_until_running(true);
    wreq.set_timeout_ms(20000);
    Status s = c.Call(&v1::Controller::Stub::Wait, wreq, &wrep, 30000);
    if (!s.ok()) return Fail("run", s);
    if (wrep.all_done()) break;
    if (!wrep.jobs().empty() && wrep.jobs(0).state() == "PENDING") {
      std::cerr << "corral run: job " << id << " queued, waiting (" << wrep.jobs(0).reason()
                << ")\n";
    }
  }
  const v1::JobInfo& job = wrep.jobs(0);
  if (job.state() != "RUNNING") {
    std::cerr << "corral run: job " << id << " ended " << job.state() << " before it started\n";
    return kExitFailed;
  }
  std::vector<Task> tasks = PlaceTasks(job);
  Output out(cmd->label);
  std::vector<int> codes(tasks.size(), 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < tasks.size(); ++i) {
    threads.emplace_back([&, i] {
      codes[i] =
          RunTask(c, job, tasks[i], argv, &out, tasks[i].rank == input->task ? input->fd : -1);
    });
  }
  for (auto& t : threads) t.join();
  int code = 0;
  for (int x : codes) {
    if (x != 0) {
      code = x;
      break;
    }
  }
  v1::CompleteRequest creq;
  creq.set_job_id(id);
  creq.set_exit_code(code);
  v1::CompleteReply crep;
  if (Status s = c.Call(&v1::Controller::Stub::Complete, creq, &crep); !s.ok()) {
    Fail("run", s);
  }
  return code;
}

}  // namespace corral::cli
