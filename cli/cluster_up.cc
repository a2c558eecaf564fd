// corral up / corral down: a local cluster (corrald + simulated corral-node processes) in the
// background, tracked by pid files under --dir.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/client.h"
#include "cli/cluster_file.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "common/time.h"

namespace corral::cli {

namespace fs = std::filesystem;

namespace {

std::string ReadText(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The pid in `pidfile` if that process is alive and runs `binary`; else 0.
pid_t AlivePid(const std::string& pidfile, const std::string& binary) {
  std::ifstream f(pidfile);
  pid_t pid = 0;
  if (!(f >> pid) || pid <= 1) return 0;
  if (kill(pid, 0) != 0) return 0;
  std::string cmd = ReadText("/proc/" + std::to_string(pid) + "/cmdline");
  std::string argv0 = cmd.substr(0, cmd.find('\0'));
  if (fs::path(argv0).filename() != binary) return 0;
  // A zombie is not alive.
  std::string stat = ReadText("/proc/" + std::to_string(pid) + "/stat");
  size_t rp = stat.rfind(')');
  if (rp != std::string::npos && rp + 2 < stat.size() && stat[rp + 2] == 'Z') return 0;
  return pid;
}

// Starts argv detached from this process (own session, output to `log`), records its pid.
Result<pid_t> StartDaemon(const std::vector<std::string>& argv, const std::string& log,
                          const std::string& pidfile) {
  std::error_code ec;
  std::filesystem::remove(pidfile, ec);  // a stale one must not be mistaken for the new
  pid_t pid = fork();
  if (pid < 0) return Status::Internal("fork failed");
  if (pid == 0) {
    setsid();
    // Double fork so the daemon is not our child: `corral up` can exit.
    if (fork() != 0) _exit(0);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    {
      std::ofstream pf(pidfile + ".tmp");
      pf << getpid() << "\n";
    }
    rename((pidfile + ".tmp").c_str(), pidfile.c_str());
    execv(a[0], a.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  // Wait for the grandchild's pid file.
  TimeMs deadline = MonotonicNowMs() + 5000;
  while (MonotonicNowMs() < deadline) {
    std::ifstream f(pidfile);
    pid_t p = 0;
    if (f >> p && p > 0) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Internal(pidfile + ": the process did not start");
}

// ": <the last line of the log>", or "" if it has none: what a process said as it ended.
std::string LastLine(const std::string& log) {
  std::string text = ReadText(log);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t nl = text.rfind('\n');
  std::string last = text.substr(nl == std::string::npos ? 0 : nl + 1);
  if (last.size() > 300) last = last.substr(0, 300) + "...";
  return last.empty() ? "" : " (last words: " + last + ")";
}

std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::map<std::string, std::string> m;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    size_t eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

std::string DefaultClusterFile() {
  for (const char* rel : {"../../examples/cluster.yaml", "../share/corral/cluster.yaml"}) {
    fs::path p = fs::path(BinDir()) / rel;
    if (fs::exists(p)) return fs::canonical(p).string();
  }
  return "";
}

}  // namespace

int Up(const Args& args) {
  po::options_description d("Options");
  std::string dir, cluster;
  int64_t wait_s = 60;
  bool quiet = false;
  d.add_options()("dir", po::value(&dir)->required(),
                  "directory for the cluster's state, logs, pid files and env")(
      "cluster", po::value(&cluster),
      "cluster file (default: examples/cluster.yaml; on a re-run, the one used first)")(
      "wait", po::value(&wait_s)->default_value(60), "seconds to wait for every node")(
      "quiet,q", po::bool_switch(&quiet), "print only errors");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("up",
                 "Usage: corral up --dir DIR [--cluster FILE]\n\n"
                 "Starts a local cluster in the background: one corrald and the simulated nodes "
                 "of the cluster file. Writes DIR/env (source it to use the cluster), a pid file "
                 "per process and logs under DIR/log. Run again on a directory whose cluster is "
                 "partly down, it restarts what is missing with the same state.",
                 args, d, nullptr, &vm, &exit)) {
    return exit;
  }
  std::error_code ec;
  fs::create_directories(dir + "/log", ec);
  fs::create_directories(dir + "/state", ec);
  fs::create_directories(dir + "/spool", ec);
  if (ec) return Fail("up", Status::Invalid("--dir " + dir + ": " + ec.message()));
  dir = fs::canonical(dir).string();
  std::string saved = dir + "/cluster.yaml";
  if (cluster.empty()) cluster = fs::exists(saved) ? saved : DefaultClusterFile();
  if (cluster.empty() || !fs::exists(cluster)) {
    return Fail("up", Status::Invalid("--cluster: no cluster file found; give one"));
  }
  std::string base = fs::canonical(cluster).parent_path().string();
  std::string cluster_text = ReadText(cluster);
  auto nodes = ParseClusterFile(cluster_text, base);
  if (!nodes.ok()) return Fail("up", nodes.status());
  if (fs::canonical(cluster) != fs::path(saved)) {
    // Keep the cluster with absolute topology paths, so a re-run needs no --cluster.
    // corrald's sections (partitions, scheduler) are kept as they are.
    std::ofstream out(saved);
    out << "nodes:\n";
    for (const auto& n : *nodes) {
      out << "  - name: " << n.name << "\n    topology: \"" << n.topology << "\"\n";
      if (!n.gpus.empty()) out << "    gpus: \"" << n.gpus << "\"\n";
    }
    out << ControllerSections(cluster_text);
  }
  const std::string bin = BinDir();
  auto env = ReadEnvFile(dir + "/env");
  std::string address = env.count("CORRAL_CONTROLLER") ? env["CORRAL_CONTROLLER"] : "";

  // corrald: the one running, or a new one on the address the cluster had.
  bool started_ctl = false;
  auto start_controller = [&]() -> Status {
    std::string listen = address.empty() ? "127.0.0.1:0" : address;
    fs::remove(dir + "/corrald.addr", ec);
    // The nodes' declared GPUs are simulated here: they pass the GPU check on the CPU twin.
    auto pid = StartDaemon({bin + "/corrald", "--state-dir", dir + "/state", "--listen", listen,
                            "--address-file", dir + "/corrald.addr", "--allow-simulated-gpus",
                            "--config", saved, "--admin-token-file", dir + "/admin.token"},
                           dir + "/log/corrald.log", dir + "/corrald.pid");
    if (!pid.ok()) return pid.status();
    TimeMs deadline = MonotonicNowMs() + 15000;
    while (!fs::exists(dir + "/corrald.addr")) {
      if (MonotonicNowMs() > deadline || kill(*pid, 0) != 0) {
        return Status::Unavailable("corrald did not start" + LastLine(dir + "/log/corrald.log") +
                                   "; see " + dir + "/log/corrald.log");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string a = ReadText(dir + "/corrald.addr");
    address = a.substr(0, a.find('\n'));
    started_ctl = true;
    if (!quiet) std::cout << "corrald: started (pid " << *pid << ") on " << address << std::endl;
    return Status::Ok();
  };
  if (!AlivePid(dir + "/corrald.pid", "corrald")) {
    if (Status s = start_controller(); !s.ok()) return Fail("up", s);
  } else if (!quiet) {
    std::cout << "corrald: already running on " << address << std::endl;
  }
  // The cluster's owner is its admin: its token, the CA, and a join token for the nodes of
  // this cluster go in the env file, which only the owner may read.
  Credentials admin;
  const std::string ca_path = dir + "/state/pki/ca.pem";
  {
    auto ca = ReadSmallFile(ca_path, 1 << 16);
    auto tok = ReadSmallFile(dir + "/admin.token", 4096);
    if (!ca.ok() || !tok.ok()) {
      return Fail("up", Status::Unavailable("corrald made no CA or admin token: " +
                                            (ca.ok() ? tok : ca).status().message()));
    }
    admin.ca_pem = *ca;
    admin.token = tok->substr(0, tok->find('\n'));
  }
  Client c(address, admin);
  std::string join = env.count("CORRAL_JOIN_TOKEN") ? env["CORRAL_JOIN_TOKEN"] : "";
  if (join.empty() || started_ctl) {
    // A fresh one each time corrald starts: an old one may have been revoked meanwhile.
    v1::AdminTokenRequest req;
    req.set_op("create");
    req.set_role("join");
    req.set_uses(100000);
    req.set_fleet(100000);
    req.set_ttl_s(30LL * 86400);
    req.set_comment("corral up --dir " + dir.substr(0, 200));
    v1::AdminTokenReply rep;
    Status s;
    for (int i = 0; i < 100; ++i) {  // corrald may still be opening its port
      s = c.Call(&v1::Controller::Stub::AdminToken, req, &rep, 2000);
      if (s.code() != Status::Code::kUnavailable) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!s.ok()) return Fail("up", s);
    join = rep.token();
  }
  {
    const std::string tmp = dir + "/env.tmp";
    std::ofstream ef(tmp);
    ef << "CORRAL_CONTROLLER=" << address << "\nCORRAL_CA=" << ca_path
       << "\nCORRAL_TOKEN=" << admin.token << "\nCORRAL_JOIN_TOKEN=" << join
       << "\nCORRAL_CLUSTER_DIR=" << dir << "\nPATH=" << bin << ":${PATH}\n";
    ef.close();
    chmod(tmp.c_str(), 0600);
    fs::rename(tmp, dir + "/env", ec);
  }
  // The nodes attach with it (corral-node reads $CORRAL_JOIN_TOKEN), once: after that their
  // identity is in their state directory.
  setenv("CORRAL_JOIN_TOKEN", join.c_str(), 1);
  int started = 0;
  for (const auto& n : *nodes) {
    std::string pidfile = dir + "/node-" + n.name + ".pid";
    if (AlivePid(pidfile, "corral-node")) continue;
    std::vector<std::string> argv = {
        bin + "/corral-node", "--controller",           address,        "--name", n.name,
        "--spool-dir",        dir + "/spool/" + n.name, "--shared-host"};
    if (!n.topology.empty()) argv.insert(argv.end(), {"--topology", n.topology});
    if (!n.gpus.empty()) argv.insert(argv.end(), {"--gpus", n.gpus});
    if (!n.min_price.empty()) argv.insert(argv.end(), {"--min-price", n.min_price});
    if (!n.accounts.empty()) argv.insert(argv.end(), {"--accounts", n.accounts});
    if (!n.max_time.empty()) argv.insert(argv.end(), {"--max-time", n.max_time});
    if (!n.contain) argv.insert(argv.end(), {"--contain", "false"});
    auto pid = StartDaemon(argv, dir + "/log/node-" + n.name + ".log", pidfile);
    if (!pid.ok()) return Fail("up", pid.status());
    ++started;
  }
  // Wait until every node is registered, its GPUs checked, and up. A corrald that was found
  // running may be one that was being killed just then (kill -9, then `corral up` at once): if
  // it is gone, a new one is started, once.
  TimeMs deadline = MonotonicNowMs() + wait_s * 1000;
  for (;;) {
    if (!AlivePid(dir + "/corrald.pid", "corrald")) {
      if (started_ctl) {
        return Fail("up",
                    Status::Unavailable("corrald exited while corral up waited for the nodes" +
                                        LastLine(dir + "/log/corrald.log") + "; see " + dir +
                                        "/log/corrald.log"));
      }
      if (!quiet)
        std::cout << "corrald: the one that was running has exited; starting another" << std::endl;
      if (Status s = start_controller(); !s.ok()) return Fail("up", s);
    }
    v1::ListNodesReply rep;
    Status s = c.Call(&v1::Controller::Stub::ListNodes, v1::ListNodesRequest(), &rep, 2000);
    size_t up = 0;
    std::vector<std::string> waiting;  // what each node that is not up is doing
    for (const auto& n : *nodes) {
      const v1::NodeInfo* found = nullptr;
      for (const auto& r : rep.nodes())
        if (r.profile().name() == n.name) found = &r;
      if (found && found->state() == "fail") {
        return Fail("up", Status::Internal("node " + n.name + ": " + found->verification()));
      }
      if (found && found->state() != "down" && found->state() != "verifying") {
        ++up;
        continue;
      }
      std::string what = !s.ok()  ? "state unknown"
                         : !found ? "not registered with this corrald"
                         : found->state() == "verifying"
                             ? "connected, its GPU check not answered yet"
                             : "not connected (down)";
      std::string log = dir + "/log/node-" + n.name + ".log";
      if (pid_t p = AlivePid(dir + "/node-" + n.name + ".pid", "corral-node")) {
        what += "; its corral-node runs as pid " + std::to_string(p);
      } else {
        what += "; its corral-node has exited" + LastLine(log);
      }
      waiting.push_back(n.name + " (" + what + ")");
    }
    if (up == nodes->size()) break;
    if (MonotonicNowMs() > deadline) {
      std::string why = std::to_string(up) + " of " + std::to_string(nodes->size()) +
                        " nodes up after " + std::to_string(wait_s) + " s (--wait)";
      if (!s.ok()) why += "; corrald at " + address + " does not answer: " + s.message();
      why += "; waiting for: ";
      for (size_t i = 0; i < waiting.size(); ++i) why += (i ? ", " : "") + waiting[i];
      return Fail("up", Status::Unavailable(why + ". Logs: " + dir + "/log/"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!quiet) {
    std::cout << "nodes: " << nodes->size() << " up (" << started << " started now)\n"
              << "\nThe cluster runs in the background. To use it:\n"
              << "  set -a; . " << dir << "/env; set +a\n"
              << "  corral nodes; corral submit --wrap 'hostname'; corral queue\n"
              << "Stop it with: corral down --dir " << dir << "\n";
  }
  return kExitOk;
}

int Down(const Args& args) {
  po::options_description d("Options");
  std::string dir;
  d.add_options()("dir", po::value(&dir)->required(), "the directory given to corral up");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("down", "Usage: corral down --dir DIR\n\nStops what `corral up` started, by pid.",
                 args, d, nullptr, &vm, &exit)) {
    return exit;
  }
  if (!fs::is_directory(dir))
    return Fail("down", Status::Invalid("--dir " + dir + ": no such directory"));
  std::vector<std::pair<std::string, pid_t>> procs;
  // Nodes first (they stop their jobs), then the controller.
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string f = e.path().filename();
    if (f.rfind("node-", 0) == 0 && e.path().extension() == ".pid") {
      if (pid_t p = AlivePid(e.path(), "corral-node")) procs.emplace_back(e.path(), p);
    }
  }
  std::vector<std::vector<std::pair<std::string, pid_t>>> waves{procs};
  if (pid_t p = AlivePid(dir + "/corrald.pid", "corrald"))
    waves.push_back({{dir + "/corrald.pid", p}});
  int stopped = 0;
  for (const auto& wave : waves) {
    for (const auto& [f, p] : wave) kill(p, SIGTERM);
    TimeMs deadline = MonotonicNowMs() + 10000;
    for (const auto& [f, p] : wave) {
      std::string bin = f.find("corrald") != std::string::npos ? "corrald" : "corral-node";
      while (AlivePid(f, bin) && MonotonicNowMs() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (AlivePid(f, bin)) kill(p, SIGKILL);
      std::error_code ec;
      fs::remove(f, ec);
      ++stopped;
    }
  }
  std::cout << "stopped " << stopped << " process(es)\n";
  return kExitOk;
}

}  // namespace corral::cli
