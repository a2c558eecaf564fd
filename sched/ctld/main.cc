// corrald: the Corral controller. See DESIGN.md "Processes".
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "common/log.h"
#include "common/price.h"
#include "common/signals.h"
#include "fabric/nebula.h"
#include "sched/ctld/cluster_mesh.h"
#include "sched/ctld/cluster_pki.h"
#include "sched/ctld/config_file.h"
#include "sched/ctld/controller.h"
#include "sched/ctld/service.h"

namespace po = boost::program_options;
using namespace corral;

namespace {

std::string LoginName() {
  passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : "uid" + std::to_string(geteuid());
}

// --admin-token-file: an admin token for corrald's own user (`corral up` puts it in the
// cluster's env file). Made and written there when the file does not exist; when it does, its
// token is made an admin's if this controller does not know it yet.
Status BootstrapAdminToken(ctld::Controller& ctl, const std::string& path) {
  v1::AdminTokenRequest req;
  req.set_op("create");
  req.set_role("admin");
  req.set_user(LoginName());
  req.set_comment("--admin-token-file " + path.substr(0, 200));
  auto text = ReadSmallFile(path, 4096);
  if (text.ok()) {
    std::string tok = text->substr(0, text->find('\n'));
    size_t a = tok.find('.'), b = tok.rfind('.');
    if (tok.rfind("ct1.", 0) != 0 || a == b) return Status::Invalid(path + ": not a ct1. token");
    req.set_id(tok.substr(a + 1, b - a - 1));
    req.set_secret(tok.substr(b + 1));
    v1::AccessToken known;
    if (ctl.access().FindToken(req.id(), &known)) return Status::Ok();
    auto r = ctl.AdminToken(req, LoginName());
    return r.ok() ? Status::Ok() : r.status();
  }
  if (text.status().code() != Status::Code::kNotFound) return text.status();
  auto r = ctl.AdminToken(req, LoginName());
  if (!r.ok()) return r.status();
  return WriteFileAtomic(path, r->token() + "\n", 0600);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen, state_dir, address_file, log_level, config_path;
  std::string socket_path, admin_token_file, overlay = "auto";
  int overlay_port = kDefaultOverlayPort;
  std::vector<std::string> tls_names;
  int64_t heartbeat_ms = 1000, node_timeout_ms = 30000;
  ctld::VerifyPolicy verify;
  double verify_timeout_s = static_cast<double>(verify.timeout_ms) / 1000;
  double verify_slack_s = static_cast<double>(verify.slack_ms) / 1000;
  double verify_every_h = static_cast<double>(verify.recheck_ms) / 3600000;
  po::options_description opts(
      "corrald: the Corral controller.\n\n"
      "Usage: corrald --state-dir DIR [--listen HOST:PORT] [--address-file FILE]\n\nOptions");
  opts.add_options()("help,h", "show this help")(
      "state-dir", po::value(&state_dir)->required(),
      "directory for the SQLite state (corral.db) and accounting (accounting.h5); created if "
      "missing")("listen", po::value(&listen)->default_value("127.0.0.1:6817"),
                 "address to serve gRPC on; port 0 lets the OS pick")(
      "address-file", po::value(&address_file),
      "write the bound HOST:PORT here once serving (for scripts and tests)")(
      "socket", po::value(&socket_path),
      "the local socket, where callers on this machine are known by their uid (default "
      "STATE-DIR/corrald.sock; none: no socket)")(
      "tls-name", po::value(&tls_names)->composing(),
      "a host name or address that clients dial, for the server certificate (repeatable; the "
      "host name and loopback are always in it)")(
      "overlay", po::value(&overlay)->default_value("auto"),
      "run the Nebula mesh that jobs' ranks talk over, as its lighthouse and relay: on, off, "
      "or auto (on unless --listen is a loopback address, which no other machine can reach)")(
      "overlay-port", po::value(&overlay_port)->default_value(kDefaultOverlayPort),
      "the mesh's UDP port")(
      "admin-token-file", po::value(&admin_token_file),
      "an admin token for corrald's user: made and written to FILE (0600) if it does not exist, "
      "else the token in FILE is accepted as one")(
      "heartbeat-ms", po::value(&heartbeat_ms)->default_value(1000),
      "how often nodes heartbeat and the scheduler ticks")(
      "node-timeout-ms", po::value(&node_timeout_ms)->default_value(30000),
      "a node silent this long is marked down and its jobs NODE_FAIL")(
      "log-level", po::value(&log_level)->default_value("info"), "debug, info, warn or error")(
      "config", po::value(&config_path),
      "YAML file with `scheduler:` options (these flags, without --) and `partitions:`; "
      "`corral up` passes its cluster file. Flags given here win over the file");
  po::options_description gpu(
      "GPU check (a node that declares GPUs runs a verification GEMM on "
      "each when it attaches, and gets no jobs until the result checks "
      "out)");
  gpu.add_options()("allow-simulated-gpus", po::bool_switch(&verify.allow_simulated),
                    "accept GPUs that a node checked on its CPU because no device answered: the "
                    "declared GPUs of a demo cluster (corral up sets this)")(
      "verify-size", po::value(&verify.size)->default_value(verify.size),
      "m = n = k of the product on each GPU")(
      "verify-seconds", po::value(&verify.seconds)->default_value(verify.seconds),
      "how long each GPU repeats the product, to measure its TFLOP/s")(
      "verify-samples", po::value(&verify.samples)->default_value(verify.samples),
      "entries of C the controller recomputes and compares exactly")(
      "verify-timeout", po::value(&verify_timeout_s)->default_value(verify_timeout_s),
      "seconds a node has to answer before it fails the check")(
      "verify-slack", po::value(&verify_slack_s)->default_value(verify_slack_s),
      "round one (the product once) must come back within this many seconds plus the product's "
      "time at the floor speed of the GPU models the node declares; a larger --verify-size makes "
      "this bound tighter")(
      "verify-floor", po::value(&verify.floor_fraction)->default_value(verify.floor_fraction),
      "a GPU whose measured TFLOP/s is under this fraction of its model's datasheet figure "
      "is unverified (gets no jobs)")(
      "verify-bandwidth-floor",
      po::value(&verify.gbps_floor_fraction)->default_value(verify.gbps_floor_fraction),
      "the same for its memory bandwidth (STREAM triad GB/s)")(
      "verify-every", po::value(&verify_every_h)->default_value(verify_every_h),
      "check each node's GPUs again about this often, in hours, at a random time and only while "
      "the node is idle (0: only when it attaches)");
  opts.add(gpu);
  sched::SchedulerConfig sc;
  std::string backfill = "easy", runtime_model = "limit";
  double window_h = static_cast<double>(sc.backfill.window_ms) / 3600000;
  double max_age_h = static_cast<double>(sc.weights.max_age_ms) / 3600000;
  ctld::ControllerOptions co;
  double half_life_h = static_cast<double>(co.fairshare.half_life_ms) / 3600000;
  double gpu_weight = co.fairshare.gpu_weight;
  int64_t store_s = co.fairshare.store_every_ms / 1000;
  std::vector<std::string> gpu_prices;
  po::options_description sched_opts(
      "Scheduling (priority = sum of weight x factor, each factor 0..1, minus nice; then "
      "backfill)");
  sched_opts.add_options()(
      "backfill", po::value(&backfill)->default_value(backfill),
      "easy: lower-priority jobs start early if they delay the first waiting job; conservative: "
      "if they delay no waiting job; fcfs: no backfill, jobs start strictly in order")(
      "backfill-window-hours", po::value(&window_h)->default_value(window_h),
      "how far ahead reservations are planned")(
      "runtime-model", po::value(&runtime_model)->default_value(runtime_model),
      "limit: plan each job to run for its time limit; history: for the mean of its user's last "
      "two completed jobs, at most the limit (EASY++; the job is still killed at its limit)")(
      "priority-weight-age", po::value(&sc.weights.age)->default_value(sc.weights.age),
      "weight of the time a job has waited (factor 1 at --priority-max-age-hours)")(
      "priority-max-age-hours", po::value(&max_age_h)->default_value(max_age_h),
      "the wait at which the age factor reaches 1")(
      "priority-weight-job-size",
      po::value(&sc.weights.job_size)->default_value(sc.weights.job_size),
      "weight of the share of the cluster's CPUs a job asks for")(
      "priority-weight-gpu", po::value(&sc.weights.gpu)->default_value(sc.weights.gpu),
      "weight of the share of the cluster's GPUs a job asks for")(
      "priority-weight-fairshare",
      po::value(&sc.weights.fairshare)->default_value(sc.weights.fairshare),
      "weight of the fair-share factor (Fair Tree over `corral admin account` shares)")(
      "priority-weight-partition",
      po::value(&sc.weights.partition)->default_value(sc.weights.partition),
      "weight of the partition's tier over the highest tier")(
      "priority-weight-qos", po::value(&sc.weights.qos)->default_value(sc.weights.qos),
      "weight of the QOS's priority over the highest QOS priority")(
      "fairshare-half-life-hours", po::value(&half_life_h)->default_value(half_life_h),
      "past usage counts half after this long")("fairshare-gpu-weight",
                                                po::value(&gpu_weight)->default_value(gpu_weight),
                                                "CPU-seconds of usage one GPU-second counts as")(
      "fairshare-store-seconds", po::value(&store_s)->default_value(store_s),
      "how often the usage is stored (a crash of corrald loses at most this much)")(
      "gpu-price", po::value(&gpu_prices)->composing(),
      "a GPU model's rate per GPU-hour in credits, MODEL=CREDITS (h100=2.5); repeat for each "
      "model. Unpriced models are free. --gpu-choice=cheapest, --max-price and nodes' "
      "--min-price weigh these");
  opts.add(sched_opts);
  po::variables_map vm;
  ctld::ConfigFile config;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
      std::cout << opts << "\n";
      return 0;
    }
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      std::stringstream text;
      if (!in || !(text << in.rdbuf())) {
        std::cerr << "corrald: --config " << path << ": cannot read\n";
        return 2;
      }
      auto parsed = ctld::ParseConfigFile(text.str());
      if (!parsed.ok()) {
        std::cerr << "corrald: --config " << path << ": " << parsed.status().message() << "\n";
        return 2;
      }
      config = std::move(*parsed);
      // The file's scheduler options: a stored command-line value is kept.
      po::store(po::command_line_parser(config.scheduler_args).options(sched_opts).run(), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "corrald: " << e.what() << "\n"
              << "Try 'corrald --help'.\n";
    return 2;
  }
  if (heartbeat_ms < 10 || node_timeout_ms < heartbeat_ms) {
    std::cerr << "corrald: --heartbeat-ms must be >= 10 and --node-timeout-ms >= it\n";
    return 2;
  }
  verify.timeout_ms = verify_timeout_s >= 0 && verify_timeout_s < 1e9
                          ? static_cast<int64_t>(verify_timeout_s * 1000)
                          : -1;
  verify.slack_ms = verify_slack_s >= 0 && verify_slack_s < 1e9
                        ? static_cast<int64_t>(verify_slack_s * 1000)
                        : -1;
  verify.recheck_ms = verify_every_h >= 0 && verify_every_h < 1e6
                          ? static_cast<int64_t>(verify_every_h * 3600000)
                          : -1;
  if (Status st = ctld::ValidatePolicy(verify); !st.ok()) {
    std::cerr << "corrald: " << st.message() << "\n";
    return 2;
  }
  if (!sched::ParseBackfillMode(backfill, &sc.backfill.mode)) {
    std::cerr << "corrald: --backfill " << backfill << ": must be easy, conservative or fcfs\n";
    return 2;
  }
  if (runtime_model == "limit") {
    sc.runtime_model = sched::RuntimeModel::kLimit;
  } else if (runtime_model == "history") {
    sc.runtime_model = sched::RuntimeModel::kHistory;
  } else {
    std::cerr << "corrald: --runtime-model " << runtime_model << ": must be limit or history\n";
    return 2;
  }
  auto hours = [](const char* name, double h, TimeMs* out) {
    if (!(h > 0 && h <= 24 * 3650)) {
      std::cerr << "corrald: --" << name << " " << h << ": must be above 0 and at most 87600\n";
      return false;
    }
    *out = static_cast<TimeMs>(h * 3600000);
    return true;
  };
  if (!hours("backfill-window-hours", window_h, &sc.backfill.window_ms) ||
      !hours("priority-max-age-hours", max_age_h, &sc.weights.max_age_ms) ||
      !hours("fairshare-half-life-hours", half_life_h, &co.fairshare.half_life_ms)) {
    return 2;
  }
  if (!(gpu_weight >= 0 && gpu_weight <= 1e6)) {
    std::cerr << "corrald: --fairshare-gpu-weight " << gpu_weight << ": must be 0 to 1000000\n";
    return 2;
  }
  co.fairshare.gpu_weight = gpu_weight;
  if (store_s < 1 || store_s > 3600) {
    std::cerr << "corrald: --fairshare-store-seconds " << store_s << ": must be 1 to 3600\n";
    return 2;
  }
  co.fairshare.store_every_ms = store_s * 1000;
  for (const std::string& g : gpu_prices) {
    auto p = ParseModelPrice("--gpu-price", g);
    if (!p.ok()) {
      std::cerr << "corrald: " << p.status().message() << "\n";
      return 2;
    }
    co.gpu_prices[p->first] = p->second;
  }
  for (auto [name, w] : {std::pair{"age", sc.weights.age},
                         {"job-size", sc.weights.job_size},
                         {"gpu", sc.weights.gpu},
                         {"fairshare", sc.weights.fairshare},
                         {"partition", sc.weights.partition},
                         {"qos", sc.weights.qos}}) {
    if (w < 0 || w > (int64_t{1} << 31)) {
      std::cerr << "corrald: --priority-weight-" << name << " " << w
                << ": must be 0 to 2147483648\n";
      return 2;
    }
  }
  InitLogging("corrald", log_level);
  mkdir(state_dir.c_str(), 0755);

  BlockTerminationSignals();

  co.state_dir = state_dir;
  co.heartbeat_ms = heartbeat_ms;
  co.node_timeout_ms = node_timeout_ms;
  co.verify = verify;
  co.scheduler = sc;
  co.config_given = !config_path.empty();
  co.partitions = std::move(config.partitions);
  // Before anything here uses OpenSSL: it reads this configuration once, at its start.
  if (Status s = ctld::RequireTls13(state_dir); !s.ok()) {
    std::cerr << "corrald: " << s.message() << "\n";
    return 1;
  }
  std::vector<std::string> names = tls_names;
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) == 0 && *host) names.push_back(host);
  for (const char* n : {"localhost", "127.0.0.1", "::1"}) names.push_back(n);
  const std::string listen_host = listen.substr(0, listen.rfind(':'));
  if (!listen_host.empty() && listen_host != "0.0.0.0" && listen_host != "[::]" &&
      listen_host.front() != '[') {
    names.push_back(listen_host);
  }
  auto cluster_pki = ctld::LoadOrCreatePki(state_dir, names);
  if (!cluster_pki.ok()) {
    std::cerr << "corrald: " << cluster_pki.status().message() << "\n";
    return 1;
  }
  co.ca = cluster_pki->ca;
  co.access = std::make_shared<ctld::AccessTable>(cluster_pki->job_key, cluster_pki->ca_pin);
  if (overlay != "on" && overlay != "off" && overlay != "auto") {
    std::cerr << "corrald: --overlay " << overlay << ": give on, off or auto\n";
    return 2;
  }
  const bool loopback = listen_host.rfind("127.", 0) == 0 || listen_host == "localhost" ||
                        listen_host == "[::1]" || listen_host == "::1";
  if (overlay == "on" || (overlay == "auto" && !loopback)) {
    auto mesh = ctld::ClusterMesh::Start(state_dir, overlay_port);
    if (!mesh.ok()) {
      if (overlay == "on") {
        std::cerr << "corrald: --overlay on: " << mesh.status().message() << "\n";
        return 1;
      }
      spdlog::warn("no overlay mesh: {}", mesh.status().message());
    } else {
      co.mesh = std::move(*mesh);
    }
  }
  auto ctl = ctld::Controller::Open(co);
  if (!ctl.ok()) {
    std::cerr << "corrald: " << ctl.status().message() << "\n";
    return 1;
  }
  if (!admin_token_file.empty()) {
    if (Status s = BootstrapAdminToken(**ctl, admin_token_file); !s.ok()) {
      std::cerr << "corrald: --admin-token-file: " << s.message() << "\n";
      return 1;
    }
  }
  ctld::ServerOptions so;
  so.listen = listen;
  so.server_key_pem = cluster_pki->server.key_pem;
  so.server_cert_pem = cluster_pki->server.cert_pem;
  so.ca_pem = cluster_pki->ca.cert_pem;
  so.socket_path = socket_path == "none" ? "" : socket_path;
  if (socket_path.empty()) {
    so.socket_path = state_dir + "/corrald.sock";
    if (so.socket_path.size() >= 108) {  // sockaddr_un's limit
      spdlog::warn("no local socket: {} is too long a path for one (--socket)", so.socket_path);
      so.socket_path.clear();
    }
  }
  auto server = ctld::Server::Start(ctl->get(), so);
  if (!server.ok()) {
    std::cerr << "corrald: " << server.status().message() << "\n";
    return 1;
  }
  std::string addr = (*server)->address();
  (*ctl)->SetAddress(addr);
  if (!address_file.empty() && !WriteFileAtomic(address_file, addr + "\n", 0644).ok()) {
    std::cerr << "corrald: --address-file " << address_file << ": cannot write\n";
    return 1;
  }
  spdlog::info("serving on {} (TLS; CA {}) and {} with state in {}", addr, cluster_pki->ca_path,
               so.socket_path.empty() ? "no local socket" : "unix:" + so.socket_path, state_dir);
  ctld::Server* srv = server->get();
  OnTerminationSignal([srv](int s) {
    spdlog::info("signal {}: shutting down", s);
    srv->Shutdown();
  });
  srv->Wait();
  return 0;
}
