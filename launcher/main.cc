// corral-node: the launcher that runs on every node. See DESIGN.md "Processes".
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.h"
#include "common/provider_terms.h"
#include "common/signals.h"
#include "launcher/identity.h"
#include "launcher/mesh.h"
#include "launcher/node_agent.h"
#include "launcher/profile.h"
#include "launcher/provider_commands.h"
#include "launcher/sim_nodes.h"

namespace po = boost::program_options;
using namespace corral;

namespace {

// Not a predictable name in /tmp: another user could make it first.
std::string DefaultSpool(const std::string& name) {
  const char* home = getenv("HOME");
  return geteuid() == 0 || !home ? "/var/spool/corral-node/" + name
                                 : std::string(home) + "/.local/state/corral-node/" + name;
}

std::string DefaultStateDir(const std::string& name) {
  return DefaultSpool(name) + "/state";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && (std::string(argv[1]) == "status" || std::string(argv[1]) == "remove" ||
                   std::string(argv[1]) == "rename")) {
    return corral::ProviderCommand(argc, argv, &DefaultStateDir);
  }
  // `corral-node attach --controller H:P --join-token T`: the first start of a node (what a
  // plain start does too, when the node has no identity yet).
  if (argc > 1 && std::string(argv[1]) == "attach") {
    argv[1] = argv[0];
    ++argv;
    --argc;
  }
  std::string controller, name, topology, gpus, spool, state_dir, log_level;
  std::string min_price, accounts, max_time, job_user = "nobody", join_token, ca_file;
  std::string overlay = "auto";
  bool contain = true;
  int simulate = 0;
  double simulate_runtime_s = 1;
  bool shared_host = false, print_profile = false, json = false;
  po::options_description opts(
      "corral-node: profiles this machine (or a simulated node) with hwloc, dials corrald and "
      "runs the jobs it is given.\n\n"
      "Usage: corral-node [attach] --controller HOST:PORT [--join-token T] [--name N] "
      "[--topology XML|SYNTHETIC] [--gpus LIST]\n       corral-node status|remove|rename "
      "[--controller "
      "HOST:PORT] [--name N]  "
      "(a provider's view of the node, and taking it back: corral-node status --help)"
      "\n\nOptions");
  opts.add_options()("help,h", "show this help")(
      "controller", po::value(&controller),
      "corrald address (default: $CORRAL_CONTROLLER, else 127.0.0.1:6817)")(
      "name", po::value(&name), "node name (default: the host name)")(
      "join-token", po::value(&join_token),
      "attach with this token from `corral admin token create --role join` (default: "
      "$CORRAL_JOIN_TOKEN); needed only until the node has an identity in --state-dir")(
      "ca", po::value(&ca_file),
      "the cluster CA's certificate to trust at attach (default: the one the join token pins, "
      "as the controller shows it)")(
      "topology", po::value(&topology),
      "simulate a node: an hwloc XML file, or a synthetic string such as "
      "\"pack:2 numa:2(memory=64GB) core:8 pu:1\"")(
      "gpus", po::value(&gpus),
      "GPUs of a simulated node, e.g. \"2xH100@numa0,2xH100@numa1\" or \"8xA100\"")(

      "spool-dir", po::value(&spool),
      "where job scripts and TMPDIRs live, private to corral-node (default: "
      "/var/spool/corral-node/NAME as root, else ~/.local/state/corral-node/NAME)")(
      "state-dir", po::value(&state_dir),
      "what must survive a restart of corral-node: the journal of jobs whose end the controller "
      "has not acknowledged (default SPOOL-DIR/state)")(
      "contain", po::value(&contain)->default_value(true),
      "run each job in a cgroup with the memory and CPU limits it asked for (where the machine "
      "allows; false: never)")(
      "job-user", po::value(&job_user)->default_value("nobody"),
      "as root, a job runs as its submitter's account on this machine, else as this account")(
      "overlay", po::value(&overlay)->default_value("auto"),
      "join the cluster's Nebula mesh, which jobs' ranks talk over (needs root): on, off, or "
      "auto (when this machine can run nebula and the controller runs a mesh)")(
      "shared-host", po::bool_switch(&shared_host),
      "several simulated nodes share this host: set the MPI settings that needs")(
      "min-price", po::value(&min_price),
      "the least this node takes per GPU-hour, in credits (e.g. 1.5): it gets no GPU job while its "
      "GPU model's rate is lower")(
      "accounts", po::value(&accounts),
      "take jobs only of these accounts, joined by commas (default: any)")(
      "max-time", po::value(&max_time),
      "take only jobs whose time limit is at most this (e.g. 4:00:00; default: any)")(
      "simulate", po::value(&simulate),
      "run this many simulated nodes in this process, named NAME1..NAMEN (--name, default sim), "
      "each of the --topology and --gpus given; their jobs run nothing and end after "
      "--simulate-runtime (or the job's CORRAL_SIM_RUNTIME seconds)")(
      "simulate-runtime", po::value(&simulate_runtime_s)->default_value(simulate_runtime_s),
      "with --simulate: how long each job runs, in seconds")(
      "print-profile", po::bool_switch(&print_profile), "print the node profile and exit")(
      "json", po::bool_switch(&json),
      "with --print-profile: as JSON (what `corral sim --cluster` reads)")(
      "log-level", po::value(&log_level)->default_value("info"), "debug, info, warn or error");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
      std::cout << opts << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "corral-node: " << e.what() << "\nTry 'corral-node --help'.\n";
    return 2;
  }
  if (controller.empty()) {
    const char* env = getenv("CORRAL_CONTROLLER");
    controller = env && *env ? env : "127.0.0.1:6817";
  }
  if (vm.count("simulate") && (simulate < 1 || simulate > 100000)) {
    std::cerr << "corral-node: --simulate: must be 1..100000\n";
    return 2;
  }
  if (simulate > 0 && topology.empty()) {
    std::cerr << "corral-node: --simulate: give the nodes' --topology\n";
    return 2;
  }
  if (!(simulate_runtime_s >= 0 && simulate_runtime_s < 1e9)) {
    std::cerr << "corral-node: --simulate-runtime: must be a number of seconds, at least 0\n";
    return 2;
  }
  if (simulate > 0 && name.empty()) name = "sim";
  if (join_token.empty()) {
    const char* env = getenv("CORRAL_JOIN_TOKEN");
    if (env) join_token = env;
  }
  auto profile = BuildProfile({name, topology, gpus});
  if (!profile.ok()) {
    std::cerr << "corral-node: " << profile.status().message() << "\n";
    return 2;
  }
  Result<ProviderTerms> terms = ParseProviderTerms(min_price, accounts, max_time);
  if (!terms.ok()) {
    std::cerr << "corral-node: " << terms.status().message() << "\n";
    return 2;
  }
  profile->terms = std::move(terms).value();
  if (print_profile && json) {
    const auto& p = *profile;
    nlohmann::json gpus = nlohmann::json::array();
    for (const auto& g : p.gpus) {
      gpus.push_back({{"index", g.index},
                      {"model", g.model},
                      {"mem_mib", g.mem_mib},
                      {"numa", g.numa},
                      {"pci_bus_id", g.pci_bus_id}});
    }
    std::cout << nlohmann::json{{"name", p.name},
                                {"cpus", p.cpus},
                                {"cores", p.cores},
                                {"sockets", p.sockets},
                                {"numa_nodes", p.numa_nodes},
                                {"mem_mib", p.mem_mib},
                                {"gpus", gpus}}
                     .dump()
              << "\n";
    return 0;
  }
  if (print_profile) {
    const auto& p = *profile;
    std::cout << p.name << ": " << p.cpus << " cpus, " << p.cores << " cores, " << p.sockets
              << " sockets, " << p.numa_nodes << " numa, " << p.mem_mib << " MiB\n";
    for (const auto& g : p.gpus) {
      std::cout << "  gpu" << g.index << " " << g.model << " " << g.mem_mib << " MiB numa" << g.numa
                << " " << g.pci_bus_id << "\n";
    }
    return 0;
  }
  InitLogging("corral-node " + profile->name, log_level);
  BlockTerminationSignals();
  if (spool.empty()) spool = DefaultSpool(profile->name);
  if (state_dir.empty()) state_dir = spool + "/state";
  // One thread takes the signal (signals.h): it stops the attach, the simulated nodes or the
  // agent, whichever runs then.
  static std::atomic<bool> stop{false};
  static std::atomic<NodeAgent*> running{nullptr};
  OnTerminationSignal([](int s) {
    spdlog::info("signal {}: stopping", s);
    stop = true;
    if (NodeAgent* a = running.load()) a->Stop();
  });
  // The node's identity: kept from an earlier start, or made now with the join token.
  {
    std::error_code ec;
    const mode_t old = umask(077);  // private from the start; PrivateSpool checks it later
    std::filesystem::create_directories(spool, ec);
    umask(old);
    if (ec) {
      std::cerr << "corral-node: --spool-dir " << spool << ": " << ec.message() << "\n";
      return 1;
    }
  }
  AttachOptions attach;
  attach.controller = controller;
  attach.state_dir = state_dir;
  attach.name = profile->name;
  attach.fleet = simulate;
  attach.join_token = join_token;
  attach.ca_file = ca_file;
  if (overlay != "on" && overlay != "off" && overlay != "auto") {
    std::cerr << "corral-node: --overlay " << overlay << ": give on, off or auto\n";
    return 2;
  }
  Status mesh_ok = CanRunMesh();
  if (overlay == "on" && !mesh_ok.ok()) {
    std::cerr << "corral-node: --overlay on: " << mesh_ok.message() << "\n";
    return 2;
  }
  const bool want_mesh = overlay != "off" && simulate == 0 && !shared_host && mesh_ok.ok();
  attach.overlay = want_mesh;
  auto identity = LoadOrAttach(attach, stop);
  if (!identity.ok()) {
    spdlog::critical("{}", identity.status().message());
    std::cerr << "corral-node: " << identity.status().message() << "\n";
    return identity.status().code() == Status::Code::kInvalid ? 2 : 1;
  }
  if (stop) return 0;
  if (simulate > 0) {
    SimOptions so;
    so.controller = controller;
    so.profile = *profile;
    so.prefix = name;
    so.count = simulate;
    so.runtime_ms = static_cast<int64_t>(simulate_runtime_s * 1000);
    so.creds = *identity;
    if (Status s = RunSimulatedNodes(so, stop); !s.ok()) {
      std::cerr << "corral-node: " << s.message() << "\n";
      return 2;
    }
    return 0;
  }

  std::unique_ptr<NodeMesh> mesh;
  if (want_mesh) {
    auto m = StartNodeMesh(state_dir + "/identity", controller, profile->name);
    if (!m.ok()) {
      spdlog::warn("no overlay mesh: {}", m.status().message());
    } else if (*m) {
      mesh = std::move(*m);
      profile->overlay_ip = mesh->ip;
    } else if (overlay == "on") {
      spdlog::warn("no overlay mesh: the controller granted none at attach");
    }
  }
  AgentOptions ao;
  ao.controller = controller;
  ao.creds = *identity;
  ao.profile = *profile;
  ao.spool_dir = spool;
  ao.contain = contain;
  ao.job_user = job_user;
  ao.bin_dir = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  ao.state_dir = state_dir;
  ao.shared_host = shared_host;
  if (mesh) {
    ao.overlay_dev = mesh->tun_dev;
    ao.overlay_pml = mesh->mpi_pml;
    ao.on_peers = [m = mesh.get()](const std::set<std::string>& ips) {
      if (Status s = m->AllowPeers(ips); !s.ok()) spdlog::warn("mesh: {}", s.message());
    };
  }
  if (Result<std::vector<std::vector<int32_t>>> cpus = NumaCpus(topology); cpus.ok()) {
    ao.numa_cpus = std::move(cpus).value();
  }
  ao.bind_cpus = topology.empty() && !shared_host;
  NodeAgent agent(ao);
  running = &agent;
  if (stop) agent.Stop();
  if (Status s = agent.Run(); !s.ok()) {
    spdlog::critical("{}", s.message());
    std::cerr << "corral-node: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
