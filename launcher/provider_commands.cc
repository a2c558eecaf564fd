#include "launcher/provider_commands.h"

#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/time.h"
#include "fabric/channel.h"
#include "fabric/proto/corral.grpc.pb.h"
#include "fabric/record_json.h"
#include "launcher/identity.h"
#include "launcher/profile.h"

namespace corral {

namespace po = boost::program_options;

namespace {

// Exit codes as `corral`'s.
constexpr int kOk = 0, kFailed = 1, kUsage = 2, kUnavailable = 3, kRejected = 4;

int Failed(const std::string& cmd, const Status& s) {
  std::cerr << "corral-node " << cmd << ": " << s.message() << "\n";
  return s.code() == Status::Code::kUnavailable ? kUnavailable : kRejected;
}

// The node as corrald lists it; NotFound when it does not.
Result<v1::NodeInfo> Find(v1::Controller::Stub& stub, const std::string& address,
                          const std::string& name) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(30000));
  v1::ListNodesReply rep;
  if (Status s = FromGrpc(stub.ListNodes(&ctx, v1::ListNodesRequest(), &rep), address); !s.ok()) {
    return s;
  }
  for (const auto& n : rep.nodes()) {
    if (n.profile().name() == name) return n;
  }
  return Status::NotFound("node " + name + ": the controller at " + address +
                          " does not know it (has it attached?)");
}

void PrintStatus(const v1::NodeInfo& n) {
  const auto& p = n.profile();
  std::cout << "node " << p.name() << (n.label().empty() ? "" : " (\"" + n.label() + "\")") << ": "
            << n.state() << "\n";
  std::cout << "  " << p.cpus() << " CPUs, " << p.mem_mib() << " MiB, " << p.gpus_size()
            << " GPU(s); allocated " << n.alloc_cpus() << " CPUs, " << n.alloc_gpus()
            << " GPU(s)\n";
  if (!n.verification().empty()) {
    std::cout << "  GPU check: " << n.verification();
    if (n.last_check_ms() > 0) {
      std::cout << ", " << FormatDuration(std::max<int64_t>(WallNowMs() - n.last_check_ms(), 0))
                << " ago";
    }
    std::cout << "\n";
    for (const auto& g : n.gpu_checks()) {
      char line[160];
      std::snprintf(line, sizeof line, "    GPU %d: %.3g TFLOP/s, %.3g GB/s (%s)\n", g.index(),
                    g.tflops(), g.gbps(), g.engine().c_str());
      std::cout << line;
    }
  }
  if (n.has_hold()) {
    std::cout << "  hold: " << n.hold().state() << " since " << FormatTime(n.hold().since_ms())
              << (n.hold().by().empty() ? "" : " by " + n.hold().by()) << ": " << n.hold().reason()
              << "\n";
  }
  std::cout << "  jobs:";
  if (n.jobs().empty()) std::cout << " none";
  for (int64_t id : n.jobs()) std::cout << " " << id;
  std::cout << "\n  last seen " << FormatTime(n.last_seen_ms()) << "\n";
}

}  // namespace

std::string AgentPidFile(const std::string& state_dir) {
  return state_dir + "/corral-node.pid";
}

int ProviderCommand(int argc, char** argv, std::string (*default_state_dir)(const std::string&)) {
  const std::string cmd = argv[1];
  std::string controller, name, reason = "removed by its provider", state_dir;
  double timeout_s = 24 * 3600;
  bool json = false;
  std::string label;
  const char* about =
      cmd == "status"
          ? "corral-node status: this node as the cluster sees it: state, GPU check, jobs, "
            "holds.\n\nUsage: corral-node status [--controller HOST:PORT] [--name N] "
            "[--json]\n\nOptions"
      : cmd == "rename"
          ? "corral-node rename: gives this node a display name, shown by `corral nodes` and "
            "corral-node status.\nThe node's name, which its certificate and its jobs carry, "
            "stays.\n\nUsage: corral-node rename [--controller HOST:PORT] "
            "[--name N] LABEL   (\"\" clears it)\n\nOptions"
          : "corral-node remove: drains this node (its running jobs finish, no new ones "
            "start), waits until none is left, then stops its corral-node.\n\nUsage: "
            "corral-node remove [--controller HOST:PORT] [--name N] [--reason TEXT]\n\nOptions";
  po::options_description opts(about);
  opts.add_options()("help,h", "show this help")(
      "controller", po::value(&controller),
      "corrald address (default: $CORRAL_CONTROLLER, else 127.0.0.1:6817)")(
      "name", po::value(&name), "the node's name (default: the host name)");
  opts.add_options()("state-dir", po::value(&state_dir),
                     "the state directory of the node's corral-node, where its identity and pid "
                     "are (default: its own default for --name)");
  po::positional_options_description pos;
  if (cmd == "status") {
    opts.add_options()("json", po::bool_switch(&json), "print the node's record as JSON");
  } else if (cmd == "rename") {
    opts.add_options()("label", po::value(&label)->required(),
                       "the display name: up to 64 printable characters");
    pos.add("label", 1);
  } else {
    opts.add_options()("reason", po::value(&reason)->default_value(reason),
                       "why, as the drain shows it")(
        "timeout", po::value(&timeout_s)->default_value(timeout_s),
        "seconds to wait for the running jobs to finish");
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc - 1, argv + 1).options(opts).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << opts << "\n";
      return kOk;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "corral-node " << cmd << ": " << e.what() << "\nTry 'corral-node " << cmd
              << " --help'.\n";
    return kUsage;
  }
  if (!(timeout_s >= 0 && timeout_s < 1e9)) {
    std::cerr << "corral-node remove: --timeout: must be a number of seconds, at least 0\n";
    return kUsage;
  }
  if (controller.empty()) {
    const char* env = getenv("CORRAL_CONTROLLER");
    controller = env && *env ? env : "127.0.0.1:6817";
  }
  Result<std::string> node_name = NodeName(name);
  if (!node_name.ok()) {
    std::cerr << "corral-node " << cmd << ": " << node_name.status().message() << "\n";
    return kUsage;
  }
  name = *node_name;
  if (state_dir.empty()) state_dir = default_state_dir(name);
  // The provider's token if one is set, else the node's own certificate: a node may see the
  // cluster's nodes and drain or resume itself.
  Credentials creds;
  if (auto env = CredentialsFromEnv(); env.ok() && !env->token.empty()) {
    creds = *env;
  } else {
    std::atomic<bool> stop{false};
    AttachOptions ao;
    ao.controller = controller;
    ao.state_dir = state_dir;
    ao.name = name;
    auto id = LoadOrAttach(ao, stop);
    if (!id.ok()) {
      std::cerr << "corral-node " << cmd << ": " << id.status().message()
                << " (or set CORRAL_TOKEN and CORRAL_CA)\n";
      return kUsage;
    }
    creds = *id;
  }
  auto stub = v1::Controller::NewStub(DialController(controller, creds));
  if (cmd == "status") {
    auto n = Find(*stub, controller, name);
    if (!n.ok()) {
      std::cerr << "corral-node status: " << n.status().message() << "\n";
      return n.status().code() == Status::Code::kNotFound ? kFailed : Failed(cmd, n.status());
    }
    if (json) {
      std::cout << NodeJson(*n).dump(2) << "\n";  // as `corral nodes --json` has it
    } else {
      PrintStatus(*n);
    }
    return kOk;
  }
  // `op` on this node alone (label: the rename; drain: the start of remove).
  auto admin = [&](const std::string& op) {
    v1::AdminNodeRequest req;
    req.set_op(op);
    req.add_nodes(name);
    req.set_label(label);
    req.set_reason(op == "drain" ? reason : "");
    if (const char* u = getenv("USER")) req.set_user(u);
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(30000));
    v1::AdminNodeReply rep;
    return FromGrpc(stub->AdminNode(&ctx, req, &rep), controller);
  };
  if (cmd == "rename") {
    if (Status s = admin("label"); !s.ok()) return Failed(cmd, s);
    std::cout << "node " << name
              << (label.empty() ? ": label cleared\n" : ": now labelled \"" + label + "\"\n");
    return kOk;
  }
  // remove: drain, wait, stop the agent.
  if (Status s = admin("drain"); !s.ok()) return Failed(cmd, s);
  std::cout << "node " << name << ": drained; waiting for its jobs to finish\n";
  const TimeMs until = MonotonicNowMs() + static_cast<TimeMs>(timeout_s * 1000);
  for (;;) {
    auto n = Find(*stub, controller, name);
    if (!n.ok()) return Failed(cmd, n.status());
    if (n->jobs().empty()) break;
    if (MonotonicNowMs() >= until) {
      std::cerr << "corral-node remove: node " << name << " still runs " << n->jobs_size()
                << " job(s) after " << timeout_s << " s; it stays drained\n";
      return kFailed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  const std::string pid_file = AgentPidFile(state_dir);
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  if (pid > 1 && kill(pid, SIGTERM) == 0) {
    for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::cout << "node " << name << ": its corral-node (pid " << pid << ") stopped\n";
  } else {
    std::cout << "node " << name << ": no corral-node running here (" << pid_file
              << "); stop it where it runs\n";
  }
  std::cout << "node " << name << ": removed. `corral admin node resume " << name
            << "` takes it back once its corral-node runs again\n";
  return kOk;
}

}  // namespace corral
