// corral attach and corral forward: a shell, or a local port, into a running job, through
// corrald and the node's own link (fabric/tunnel_client.h). The node accepts no inbound
// connection for either.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/forward_spec.h"
#include "cli/options.h"
#include "fabric/tunnel_client.h"

namespace corral::cli {

bool ParseJobIds(const std::string& cmd, const std::vector<std::string>& in,
                 std::vector<int64_t>* out);

namespace {

// The job, once it runs (waiting while it is queued), or why not.
Result<v1::JobInfo> WaitRunning(Client& c, int64_t id, const std::string& cmd) {
  bool told = false;
  for (;;) {
    v1::WaitRequest req;
    req.add_ids(id);
    req.set_until_running(true);
    req.set_timeout_ms(20000);
    v1::WaitReply rep;
    if (Status s = c.Call(&v1::Controller::Stub::Wait, req, &rep, 30000); !s.ok()) return s;
    if (rep.jobs().empty()) return Status::NotFound("job " + std::to_string(id) + ": no such job");
    const v1::JobInfo& j = rep.jobs(0);
    if (j.state() == "RUNNING") return j;
    if (rep.all_done()) {
      return Status::FailedPrecondition("job " + std::to_string(id) + " is " + j.state() +
                                        ", not RUNNING");
    }
    if (!told) {
      std::cerr << "corral " << cmd << ": job " << id << " is queued; waiting for it to start ("
                << j.reason() << ")\n";
      told = true;
    }
  }
}

// The job id argument, or a usage error printed.
bool OneJobId(const std::string& cmd, const std::string& arg, int64_t* id) {
  std::vector<int64_t> ids;
  if (!ParseJobIds(cmd, {arg}, &ids)) return false;
  if (ids.size() != 1) {
    std::cerr << "corral " << cmd << ": give one job id\n";
    return false;
  }
  *id = ids[0];
  return true;
}

int resize_pipe[2] = {-1, -1};
void OnWinch(int) {
  char c = 1;
  [[maybe_unused]] ssize_t n = write(resize_pipe[1], &c, 1);
}

v1::TunnelSize TerminalSize() {
  v1::TunnelSize s;
  winsize w{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &w) == 0) {
    s.set_rows(w.ws_row);
    s.set_cols(w.ws_col);
  }
  return s;
}

}  // namespace

int Attach(const Args& all) {
  // What follows `--` is the command, untouched by option parsing.
  Args args, command;
  bool after = false;
  for (const auto& a : all) {
    if (!after && a == "--") {
      after = true;
    } else {
      (after ? command : args).push_back(a);
    }
  }
  po::options_description d("Options");
  std::string controller, node, job;
  bool pty = false, no_pty = false;
  d.add_options()("node", po::value(&node), "the job's node to attach to (default: its first)")(
      "pty", po::bool_switch(&pty), "a terminal even when stdin or stdout is not one")(
      "no-pty", po::bool_switch(&no_pty), "pipes, never a terminal (for scripts)")(
      "controller", po::value(&controller), "corrald address")("job", po::value(&job), "job id");
  po::positional_options_description pos;
  pos.add("job", 1);
  po::variables_map vm;
  int exit = 0;
  const std::string usage =
      "Usage: corral attach JOBID [OPTIONS] [-- COMMAND [ARGS...]]\n\n"
      "Opens a shell, or runs COMMAND, on a node of running job JOBID, inside the job: in its\n"
      "cgroup, with its environment, as its user. It goes through corrald and the node's own\n"
      "link, so the node needs no open port. Exits with the shell's exit code. Without a\n"
      "terminal on both stdin and stdout, it runs on pipes (stdout and stderr together).";
  if (!ParseArgs("attach", usage, args, d, &pos, &vm, &exit)) return exit;
  int64_t id = 0;
  if (job.empty()) {
    std::cerr << "corral attach: give a job id (corral attach --help)\n";
    return kExitUsage;
  }
  if (!OneJobId("attach", job, &id)) return kExitUsage;
  if (pty && no_pty) {
    std::cerr << "corral attach: --pty and --no-pty contradict each other\n";
    return kExitUsage;
  }
  const bool terminal = pty || (!no_pty && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
  Client c(ResolveController(controller));
  if (!c.unusable.ok()) return Fail("attach", c.unusable);
  v1::TunnelOpen open;
  open.set_job_id(id);
  open.set_node(node);
  v1::TunnelShell* sh = open.mutable_shell();
  for (const auto& a : command) sh->add_argv(a);
  sh->set_pty(terminal);
  if (terminal) {
    const char* term = getenv("TERM");
    if (term && std::strlen(term) <= 64) sh->set_term(term);
    *sh->mutable_size() = TerminalSize();
  }
  TunnelEnds ends;
  ends.in_fd = STDIN_FILENO;
  ends.out_fd = STDOUT_FILENO;
  termios saved{};
  bool raw = false;
  if (terminal && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
    // Raw: every key, Ctrl-C included, goes to the far terminal, which echoes and signals.
    termios t = saved;
    cfmakeraw(&t);
    raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    if (pipe2(resize_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
      signal(SIGWINCH, OnWinch);
      ends.resize_fd = resize_pipe[0];
      ends.size = TerminalSize;
    }
  }
  TunnelOutcome r = RunTunnel(c.channel, c.address, open, ends);
  if (raw) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  if (!r.status.ok()) return Fail("attach", r.status);
  return r.exit_code < 0 ? kExitFailed : r.exit_code;
}

int Forward(const Args& args) {
  po::options_description d("Options");
  std::string controller, node, job, ports;
  d.add_options()("node", po::value(&node), "the job's node to reach (default: its first)")(
      "controller", po::value(&controller), "corrald address")("job", po::value(&job), "job id")(
      "ports", po::value(&ports), "[ADDR:]LOCAL:REMOTE or PORT");
  po::positional_options_description pos;
  pos.add("job", 1).add("ports", 1);
  po::variables_map vm;
  int exit = 0;
  const std::string usage =
      "Usage: corral forward JOBID [ADDR:]LOCAL:REMOTE | PORT [OPTIONS]\n\n"
      "Forwards a local port to port REMOTE on a node of running job JOBID, for Jupyter,\n"
      "TensorBoard or a Ray dashboard: connections to ADDR:LOCAL here (default 127.0.0.1;\n"
      "LOCAL 0 picks a free port) reach the node through corrald and the node's own link, so\n"
      "the node needs no open port. Only a port that a process of the job listens on (on the\n"
      "node's loopback or every address) is reached. Runs until Ctrl-C or the job ends.";
  if (!ParseArgs("forward", usage, args, d, &pos, &vm, &exit)) return exit;
  if (job.empty() || ports.empty()) {
    std::cerr << "corral forward: give a job id and the ports (corral forward --help)\n";
    return kExitUsage;
  }
  int64_t id = 0;
  if (!OneJobId("forward", job, &id)) return kExitUsage;
  auto spec = ParseForwardSpec(ports);
  if (!spec.ok()) {
    std::cerr << "corral forward: " << spec.status().message() << "\n";
    return kExitUsage;
  }
  Client c(ResolveController(controller));
  auto running = WaitRunning(c, id, "forward");
  if (!running.ok()) return Fail("forward", running.status());
  if (node.empty() && running->alloc_size() > 0) node = running->alloc(0).node();

  int ls = socket(spec->ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (spec->ipv6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(spec->local));
    inet_pton(AF_INET6, spec->bind.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(spec->local));
    inet_pton(AF_INET, spec->bind.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  if (ls < 0 || bind(ls, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(ls, 64) != 0) {
    std::cerr << "corral forward: cannot listen on " << spec->bind << ":" << spec->local << ": "
              << strerror(errno) << "\n";
    return kExitFailed;
  }
  getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
  int local = ntohs(spec->ipv6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                               : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  std::string here = spec->ipv6 ? "[" + spec->bind + "]" : spec->bind;
  std::cout << "forwarding " << here << ":" << local << " to port " << spec->remote << " of job "
            << id << " on " << node << " (Ctrl-C to stop)" << std::endl;
  signal(SIGPIPE, SIG_IGN);
  std::mutex mu;  // guards c's channel, redialled when corrald went away
  for (;;) {
    int conn = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::cerr << "corral forward: accept: " << strerror(errno) << "\n";
      return kExitFailed;
    }
    std::shared_ptr<grpc::Channel> ch;
    {
      std::lock_guard<std::mutex> l(mu);
      ch = c.channel;
    }
    std::thread([&, conn, ch] {
      v1::TunnelOpen open;
      open.set_job_id(id);
      open.set_node(node);
      open.set_port(spec->remote);
      TunnelEnds ends;
      ends.in_fd = ends.out_fd = conn;
      TunnelOutcome r = RunTunnel(ch, c.address, open, ends);
      close(conn);
      if (r.status.ok()) return;
      std::cerr << "corral forward: " << r.status.message() << "\n";
      std::lock_guard<std::mutex> l(mu);
      if (r.status.code() == Status::Code::kUnavailable) c.Redial();
      // The job's end ends the forwarding.
      v1::WaitRequest req;
      req.add_ids(id);
      req.set_timeout_ms(1);
      v1::WaitReply rep;
      if (c.Call(&v1::Controller::Stub::Wait, req, &rep, 10000).ok() && rep.all_done()) {
        std::cerr << "corral forward: job " << id << " has ended\n";
        std::cout.flush();
        _exit(kExitFailed);
      }
    }).detach();
  }
}

}  // namespace corral::cli
