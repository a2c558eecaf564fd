#include "tests/integration/local_cluster.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fabric/channel.h"
#include "fabric/pki.h"

namespace corral::testing {

const char* const kSmallCluster = R"(nodes:
  - name: cpu
    count: 2
    topology: "pack:1 numa:1(memory=16GB) core:8 pu:1"
  - name: gpu1
    topology: "pack:1 numa:1(memory=64GB) core:8 pu:1"
    gpus: "2xH100@numa0"
)";

std::string FirstLine(const CmdResult& r) {
  return r.out.substr(0, r.out.find('\n'));
}

nlohmann::json QueueJob(const LocalCluster& c, int64_t id) {
  CmdResult r = c.Corral("queue --json -a -j " + std::to_string(id));
  if (r.code != 0) return nullptr;
  const nlohmann::json all = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!all.is_object() || !all.contains("jobs") || all["jobs"].empty()) return nullptr;
  return all["jobs"][0];
}

std::string QueueState(const LocalCluster& c, int64_t id) {
  const nlohmann::json j = QueueJob(c, id);
  return j.is_null() ? "?" : j["state"].get<std::string>();
}

int64_t SubmitOk(const LocalCluster& c, const std::string& args) {
  CmdResult r = c.Corral("submit --parsable " + args);
  EXPECT_EQ(r.code, 0) << r.err;
  return atoll(r.out.c_str());
}

std::string BinDir() {
  return CORRAL_BIN_DIR;
}
std::string SourceDir() {
  return CORRAL_SOURCE_DIR;
}

bool WaitFor(const std::function<bool()>& cond, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

std::unique_ptr<LocalCluster> LocalCluster::Start(const std::string& yaml) {
  char tmpl[] = "/tmp/corral-it-XXXXXX";
  if (!mkdtemp(tmpl)) {
    ADD_FAILURE() << "mkdtemp failed";
    return nullptr;
  }
  auto c = std::unique_ptr<LocalCluster>(new LocalCluster());
  c->dir_ = tmpl;
  {
    std::ofstream f(c->dir_ + "/test-cluster.yaml");
    f << yaml;
  }
  CmdResult r = c->Shell(BinDir() + "/corral up -q --dir " + c->dir_ + "/cluster --cluster " +
                         c->dir_ + "/test-cluster.yaml");
  if (r.code != 0) {
    ADD_FAILURE() << "corral up failed (" << r.code << "): " << r.err;
    return nullptr;
  }
  setenv("CORRAL_CA", c->Env("CORRAL_CA").c_str(), 1);
  setenv("CORRAL_TOKEN", c->Env("CORRAL_TOKEN").c_str(), 1);
  return c;
}

std::shared_ptr<grpc::Channel> LocalCluster::NodeChannel(const std::string& name, int fleet,
                                                         const std::string& address,
                                                         const std::string& join_token) const {
  return DialController(address.empty() ? Address() : address,
                        AttachAs(name, fleet, address, join_token));
}

std::string LocalCluster::Env(const std::string& key) const {
  std::string env = ReadFile(dir_ + "/cluster/env");
  std::string k = "\n" + key + "=";
  env = "\n" + env;
  size_t p = env.find(k);
  if (p == std::string::npos) return "";
  p += k.size();
  return env.substr(p, env.find('\n', p) - p);
}

Credentials LocalCluster::AttachAs(const std::string& name, int fleet, const std::string& address,
                                   const std::string& join_token) const {
  Credentials c;
  auto ca = ReadFile(Env("CORRAL_CA"));
  auto key = pki::NewKey();
  auto csr = key.ok() ? pki::NewCsr(*key, name) : key.status();
  if (!csr.ok()) {
    ADD_FAILURE() << "attach " << name << ": " << csr.status().message();
    return c;
  }
  Credentials plain;
  plain.ca_pem = ca;
  auto stub = v1::NodeLink::NewStub(DialController(address.empty() ? Address() : address, plain));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10000));
  v1::AttachRequest req;
  req.set_join_token(join_token.empty() ? Env("CORRAL_JOIN_TOKEN") : join_token);
  req.set_csr_pem(*csr);
  req.set_name(name);
  req.set_fleet(fleet);
  v1::AttachReply rep;
  grpc::Status st = stub->Attach(&ctx, req, &rep);
  if (!st.ok()) {
    ADD_FAILURE() << "attach " << name << ": " << st.error_message();
    return c;
  }
  c.ca_pem = ca;
  c.key_pem = *key;
  c.cert_pem = rep.cert_pem();
  return c;
}

LocalCluster::~LocalCluster() {
  Shell(BinDir() + "/corral down --dir " + dir_ + "/cluster");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string LocalCluster::StartController(const std::string& dir, const std::string& args) const {
  // Not "mkdir && corrald &": that backgrounds a subshell, and $! would be its pid.
  // The cluster's CA and admin token, so that the env's credentials work with it too.
  CmdResult r = Shell(
      "mkdir -p " + dir + "/state && cp -a " + dir_ + "/cluster/state/pki " + dir + "/state/; " +
      BinDir() + "/corrald --state-dir " + dir + "/state --listen 127.0.0.1:0 --address-file " +
      dir + "/addr --admin-token-file " + dir_ + "/cluster/admin.token " + args + " >" + dir +
      "/corrald.log 2>&1 & echo $! >" + dir + "/corrald.pid; for i in $(seq 200); do [ -s " + dir +
      "/addr ] && break; sleep 0.05; done");
  std::string addr = ReadFile(dir + "/addr");
  addr = addr.substr(0, addr.find('\n'));
  if (r.code != 0 || addr.empty()) {
    ADD_FAILURE() << "corrald " << args << " did not start: " << r.err
                  << ReadFile(dir + "/corrald.log");
    return "";
  }
  CmdResult j = Shell(BinDir() +
                      "/corral admin token create --role join --uses 1000 --fleet "
                      "100000 --controller " +
                      addr + " >" + dir + "/join.token");
  if (j.code != 0) {
    ADD_FAILURE() << "no join token from the corrald at " << addr << ": " << j.err;
    return "";
  }
  return addr;
}

void LocalCluster::StopController(const std::string& dir) const {
  Shell("kill $(cat " + dir + "/corrald.pid)");
}

CmdResult LocalCluster::Shell(const std::string& command) const {
  std::string err_file = dir_ + "/.stderr";
  std::string env = dir_ + "/cluster/env";
  std::string full = "cd " + dir_ + " && { [ -f " + env + " ] && set -a && . " + env +
                     " && set +a; " + command + "; } 2>" + err_file;
  CmdResult r;
  FILE* p = popen(full.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = ReadFile(err_file);
  return r;
}

std::string LocalCluster::Address() const {
  std::string env = ReadFile(dir_ + "/cluster/env");
  size_t p = env.find("CORRAL_CONTROLLER=");
  if (p == std::string::npos) return "";
  p += 18;
  return env.substr(p, env.find('\n', p) - p);
}

CmdResult LocalCluster::Corral(const std::string& args) const {
  return Shell(BinDir() + "/corral " + args);
}

void LocalCluster::KillController() {
  std::string pid = ReadFile(dir_ + "/cluster/corrald.pid");
  pid_t p = atoi(pid.c_str());
  ASSERT_GT(p, 1);
  ASSERT_EQ(kill(p, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return kill(p, 0) != 0; }, 5000));
}

void LocalCluster::KillNode(const std::string& name) {
  pid_t p = atoi(ReadFile(dir_ + "/cluster/node-" + name + ".pid").c_str());
  ASSERT_GT(p, 1) << "no pid file for node " << name;
  ASSERT_EQ(kill(p, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return kill(p, 0) != 0; }, 5000));
}

bool LocalCluster::Up() {
  CmdResult r = Shell(BinDir() + "/corral up -q --dir " + dir_ + "/cluster");
  if (r.code != 0) {
    std::string log = ReadFile(dir_ + "/cluster/log/corrald.log");
    ADD_FAILURE() << "corral up: " << r.err << "corrald.log ends:\n"
                  << log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
  }
  return r.code == 0;
}

std::string LocalCluster::Diagnose() const {
  std::string out = "--- corral queue --all\n" + Corral("queue --all").out;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/cluster/log")) {
    std::string log = ReadFile(e.path().string());
    out += "--- " + e.path().filename().string() + " (end)\n" +
           log.substr(log.size() > 1500 ? log.size() - 1500 : 0);
  }
  return out;
}

std::string LocalCluster::ReadFile(const std::string& path) const {
  std::ifstream f(path[0] == '/' ? path : dir_ + "/" + path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace corral::testing
