// The GPU check at attach, on a real cluster: the demo's declared GPUs pass on the CPU twin;
// nodes that answer wrongly, or not yet, get no jobs; a controller that does not accept simulated
// GPUs fails them. Raw node streams stand in for a lying node and an honest one, each going
// through both rounds (commit, then open what the controller picks).
#include "launcher/gpu_check.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "fabric/channel.h"
#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

using Stream = grpc::ClientReaderWriter<v1::NodeMessage, v1::ControllerMessage>;

class GpuCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = LocalCluster::Start();
    ASSERT_TRUE(cluster_);
    liar_ = v1::NodeLink::NewStub(cluster_->NodeChannel("liar"));
    honest_ = v1::NodeLink::NewStub(cluster_->NodeChannel("honest"));
  }

  // A node with four b200s, a model no real node of the cluster has.
  static NodeProfile B200Node(const std::string& name) {
    NodeProfile p;
    p.name = name;
    p.cpus = 4;
    p.mem_mib = 1024;
    for (int i = 0; i < 4; ++i) {
      GpuDevice g;
      g.index = 1000 + i;  // no device at these ordinals: the CPU twin answers
      g.model = "b200";
      p.gpus.push_back(g);
    }
    return p;
  }

  static v1::NodeMessage Register(const NodeProfile& p) {
    v1::NodeMessage m;
    auto* pr = m.mutable_register_()->mutable_profile();
    pr->set_name(p.name);
    pr->set_cpus(p.cpus);
    pr->set_mem_mib(p.mem_mib);
    for (const auto& g : p.gpus) {
      auto* d = pr->add_gpus();
      d->set_index(g.index);
      d->set_model(g.model);
    }
    return m;
  }

  // The node's entry in `corral nodes --json` (null when absent).
  nlohmann::json Node(const std::string& name) const {
    CmdResult r = cluster_->Corral("nodes --json");
    if (r.code != 0) return nullptr;
    const nlohmann::json parsed = nlohmann::json::parse(r.out);
    for (const auto& n : parsed["nodes"])
      if (n["name"] == name) return n;
    return nullptr;
  }

  std::string JobState(int64_t id) const {
    CmdResult r = cluster_->Corral("queue --json -a -j " + std::to_string(id));
    if (r.code != 0) return "?";
    const nlohmann::json jobs = nlohmann::json::parse(r.out)["jobs"];
    return jobs.empty() ? "?" : std::string(jobs[0]["state"]);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<v1::NodeLink::Stub> liar_, honest_;  // each with its node's certificate
};

TEST_F(GpuCheck, DemoGpusPassOnTheCpuAndCpuNodesNeedNone) {
  nlohmann::json gpu = Node("gpu1"), cpu = Node("cpu1");
  ASSERT_FALSE(gpu.is_null());
  ASSERT_FALSE(cpu.is_null());
  EXPECT_EQ(gpu["verification"], "simulated");
  EXPECT_EQ(gpu["state"], "idle");
  ASSERT_EQ(gpu["gpus"].size(), 2u);
  for (const auto& g : gpu["gpus"]) {
    EXPECT_EQ(g["check_engine"], "cpu") << g.dump();
    EXPECT_GT(g["check_tflops"].get<double>(), 0) << g.dump();
  }
  EXPECT_EQ(cpu["verification"], "");
  CmdResult table = cluster_->Corral("nodes");
  EXPECT_NE(table.out.find("GPU_CHECK"), std::string::npos) << table.out;
  int64_t id = SubmitOk(*cluster_, "--gpus 1 --wrap true");
  EXPECT_EQ(cluster_->Corral("wait -q --timeout 60 " + std::to_string(id)).code, 0);
}

TEST_F(GpuCheck, NodesGetNoJobsUntilTheirGpusPassAndNoneAfterTheyFail) {
  const NodeProfile liar = B200Node("liar");
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(60000));
  std::unique_ptr<Stream> s = liar_->Connect(&ctx);
  ASSERT_TRUE(s->Write(Register(liar)));
  v1::ControllerMessage m;
  ASSERT_TRUE(s->Read(&m));
  ASSERT_TRUE(m.has_registered());
  ASSERT_TRUE(m.registered().has_verify()) << "a node with GPUs must be challenged";
  const v1::GemmChallenge challenge = m.registered().verify();
  EXPECT_GT(challenge.samples(), 0);
  EXPECT_EQ(Node("liar")["state"], "verifying");
  const GpuChecks liar_checks = GpuChecks::Run(challenge, liar);

  // Only this node has b200s: the job waits while it is being checked.
  const int64_t job = SubmitOk(*cluster_, "--gpus b200:1 --wrap true");
  EXPECT_EQ(JobState(job), "PENDING");

  // An answer to some other round changes nothing.
  v1::NodeMessage stale;
  *stale.mutable_verify() = liar_checks.report();
  stale.mutable_verify()->set_round(challenge.round() ^ 1);
  ASSERT_TRUE(s->Write(stale));
  // The commitment, then the entries the controller picks only now, one of them changed.
  v1::NodeMessage commit;
  *commit.mutable_verify() = liar_checks.report();
  ASSERT_TRUE(s->Write(commit));
  do {
    ASSERT_TRUE(s->Read(&m));
  } while (!m.has_verify_open());
  EXPECT_EQ(m.verify_open().round(), challenge.round());
  v1::NodeMessage tampered;
  *tampered.mutable_verify_opening() = liar_checks.Open(m.verify_open());
  auto* leaf = tampered.mutable_verify_opening()->mutable_gpus(2)->mutable_leaves(0);
  leaf->set_values(0, leaf->values(0) + 0.125f);
  ASSERT_TRUE(s->Write(tampered));
  ASSERT_TRUE(WaitFor([&] { return Node("liar")["state"] == "fail"; }, 15000))
      << Node("liar").dump();
  const std::string why = Node("liar")["verification"];
  EXPECT_NE(why.find("GPU 2 (b200)"), std::string::npos) << why;
  EXPECT_NE(why.find("does not lead to the committed root"), std::string::npos) << why;

  // Scheduling passes go on (another job runs to its end); the b200 job still waits.
  const int64_t other = SubmitOk(*cluster_, "--wrap true");
  EXPECT_EQ(cluster_->Corral("wait -q --timeout 60 " + std::to_string(other)).code, 0);
  EXPECT_EQ(JobState(job), "PENDING");
  ctx.TryCancel();
  s->Finish();

  // An honest node with the same GPUs answers its own challenge and gets the job.
  const NodeProfile honest = B200Node("honest");
  grpc::ClientContext hctx;
  hctx.set_deadline(DeadlineIn(60000));
  std::unique_ptr<Stream> h = honest_->Connect(&hctx);
  ASSERT_TRUE(h->Write(Register(honest)));
  ASSERT_TRUE(h->Read(&m));
  ASSERT_TRUE(m.registered().has_verify());
  EXPECT_NE(m.registered().verify().round(), challenge.round());
  const GpuChecks honest_checks = GpuChecks::Run(m.registered().verify(), honest);
  v1::NodeMessage answer;
  *answer.mutable_verify() = honest_checks.report();
  ASSERT_TRUE(h->Write(answer));
  do {
    ASSERT_TRUE(h->Read(&m));
  } while (!m.has_verify_open());
  v1::NodeMessage opened;
  *opened.mutable_verify_opening() = honest_checks.Open(m.verify_open());
  ASSERT_TRUE(h->Write(opened));
  // The next message is the launch of the waiting job, here.
  do {
    ASSERT_TRUE(h->Read(&m));
  } while (!m.has_launch());
  EXPECT_EQ(m.launch().job().id(), job);
  EXPECT_EQ(Node("honest")["verification"], "simulated");
  v1::NodeMessage done;
  done.mutable_finished()->set_job_id(job);
  done.mutable_finished()->set_state("COMPLETED");
  ASSERT_TRUE(h->Write(done));
  EXPECT_EQ(cluster_->Corral("wait -q --timeout 60 " + std::to_string(job)).code, 0);
  hctx.TryCancel();
  h->Finish();

  // The liar comes back: it is challenged again, with a new challenge.
  grpc::ClientContext lctx;
  lctx.set_deadline(DeadlineIn(60000));
  std::unique_ptr<Stream> again = liar_->Connect(&lctx);
  ASSERT_TRUE(again->Write(Register(liar)));
  ASSERT_TRUE(again->Read(&m));
  ASSERT_TRUE(m.registered().has_verify());
  EXPECT_NE(m.registered().verify().round(), challenge.round());
  EXPECT_EQ(Node("liar")["state"], "verifying");
  lctx.TryCancel();
  again->Finish();
}

// A controller started without --allow-simulated-gpus (any real deployment) fails a node whose
// declared GPUs were checked on its CPU, and says why in `corral nodes`.
TEST_F(GpuCheck, RealControllersFailSimulatedGpus) {
  const std::string d = cluster_->dir() + "/strict";
  const std::string bin = BinDir();
  const std::string ctl = cluster_->StartController(d, "");
  ASSERT_FALSE(ctl.empty());
  CmdResult start = cluster_->Shell(
      "CORRAL_JOIN_TOKEN=$(cat " + d + "/join.token) " + bin + "/corral-node --controller " + ctl +
      " --name fake --gpus 2xH100@numa0 --spool-dir " + d + "/spool >" + d +
      "/node.log 2>&1 & echo $! >" + d + "/node.pid");
  // Stopped however the test ends (an ASSERT returns early).
  struct Stop {
    std::function<void()> fn;
    ~Stop() { fn(); }
  } stop{[&] { cluster_->Shell("kill $(cat " + d + "/node.pid) $(cat " + d + "/corrald.pid)"); }};
  ASSERT_EQ(start.code, 0) << start.err;
  const std::string addr = cluster_->ReadFile(d + "/addr");
  ASSERT_FALSE(addr.empty()) << cluster_->ReadFile(d + "/corrald.log");
  auto verification = [&] {
    CmdResult r = cluster_->Corral("nodes --json --controller " + addr.substr(0, addr.find('\n')));
    if (r.code != 0) return std::string();
    const nlohmann::json parsed = nlohmann::json::parse(r.out);
    for (const auto& n : parsed["nodes"])
      if (n["name"] == "fake" && n["state"] == "fail") return std::string(n["verification"]);
    return std::string();
  };
  std::string why;
  EXPECT_TRUE(WaitFor([&] { return !(why = verification()).empty(); }, 20000))
      << cluster_->ReadFile(d + "/corrald.log") << cluster_->ReadFile(d + "/node.log");
  EXPECT_NE(why.find("was checked on the CPU"), std::string::npos) << why;
}

}  // namespace
}  // namespace corral::testing
