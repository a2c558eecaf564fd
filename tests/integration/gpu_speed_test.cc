// The GPU check's speeds, on a real corrald that accepts no simulated GPU: raw node streams
// claim h100s, answer both rounds with a right product, and report speeds of their choosing.
// Too slow for the claim: unverified, no jobs, the reason named. Above the model's peak (a
// bandwidth figure that cannot be): failed. Plausible: verified, with corrald's own lower bound.
// Round one answered too late for the claim: failed, whatever the node reports.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "fabric/channel.h"
#include "launcher/gpu_check.h"
#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

using Stream = grpc::ClientReaderWriter<v1::NodeMessage, v1::ControllerMessage>;

class GpuSpeed : public ::testing::Test {
 protected:
  void SetUp() override {
    // A cluster for its directory and CLI; the controller under test is a second corrald.
    cluster_ = LocalCluster::Start();
    ASSERT_TRUE(cluster_);
    d_ = cluster_->dir() + "/strict";
    addr_ = cluster_->StartController(d_, "--verify-size 48 --verify-slack 1 --verify-seconds 0");
    ASSERT_FALSE(addr_.empty());
  }
  void TearDown() override {
    if (cluster_) cluster_->StopController(d_);
  }

  nlohmann::json Node(const std::string& name) const {
    CmdResult r = cluster_->Corral("nodes --json --controller " + addr_);
    if (r.code != 0) return nullptr;
    const nlohmann::json parsed = nlohmann::json::parse(r.out);
    for (const auto& n : parsed["nodes"])
      if (n["name"] == name) return n;
    return nullptr;
  }

  // Attaches `name` with two h100s; answers round one with a right product (computed on the CPU,
  // reported as a GPU's), then opens it reporting `tflops` and `gbps`. `late`: answers round one
  // only once the controller has given up on it. Leaves the stream open in *s so that the node
  // stays connected.
  void Attach(const std::string& name, double tflops, double gbps, bool late,
              grpc::ClientContext* ctx, std::unique_ptr<Stream>* s) {
    NodeProfile p;
    p.name = name;
    p.cpus = 4;
    p.mem_mib = 1024;
    v1::NodeMessage reg;
    auto* pr = reg.mutable_register_()->mutable_profile();
    pr->set_name(name);
    pr->set_cpus(4);
    pr->set_mem_mib(1024);
    for (int i = 0; i < 2; ++i) {
      GpuDevice g;
      g.index = 1000 + i;  // no device: the CPU twin computes
      g.model = "NVIDIA H100 80GB HBM3";
      p.gpus.push_back(g);
      auto* d = pr->add_gpus();
      d->set_index(g.index);
      d->set_model(g.model);
    }
    ctx->set_deadline(DeadlineIn(60000));
    std::string join = cluster_->ReadFile(d_ + "/join.token");
    links_.push_back(v1::NodeLink::NewStub(
        cluster_->NodeChannel(name, 0, addr_, join.substr(0, join.find('\n')))));
    *s = links_.back()->Connect(ctx);
    ASSERT_TRUE((*s)->Write(reg));
    v1::ControllerMessage m;
    ASSERT_TRUE((*s)->Read(&m));
    ASSERT_TRUE(m.registered().has_verify());
    v1::GemmChallenge c = m.registered().verify();
    EXPECT_GT(c.triad_elements(), 0);
    c.set_cpu_size(c.size());  // the twin at the GPU's size, so that it passes for a GPU
    c.set_cpu_triad_elements(1024);
    const GpuChecks checks = GpuChecks::Run(c, p);
    v1::NodeMessage commit;
    *commit.mutable_verify() = checks.report();
    for (auto& g : *commit.mutable_verify()->mutable_gpus()) g.set_engine("wmma");
    if (late) {
      // Round one's deadline is 1 s here (--verify-slack 1): the controller fails the check, and
      // an answer after that opens nothing.
      EXPECT_EQ(Settled(name).rfind("failed", 0), 0u);
      (*s)->Write(commit);
      return;
    }
    if (!(*s)->Write(commit)) return;
    do {
      if (!(*s)->Read(&m)) return;  // failed: the controller may say nothing more
    } while (!m.has_verify_open());
    v1::NodeMessage opened;
    *opened.mutable_verify_opening() = checks.Open(m.verify_open());
    for (auto& g : *opened.mutable_verify_opening()->mutable_gpus()) {
      g.set_tflops(tflops);
      g.set_gbps(gbps);
    }
    ASSERT_TRUE((*s)->Write(opened));
  }

  std::string Settled(const std::string& name) {
    std::string v;
    WaitFor(
        [&] {
          const nlohmann::json n = Node(name);
          v = n.is_null() ? "" : std::string(n["verification"]);
          return !v.empty() && v != "pending";
        },
        20000);
    return v;
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::string d_, addr_;
  std::vector<std::unique_ptr<v1::NodeLink::Stub>> links_;  // one per node: its certificate
};

TEST_F(GpuSpeed, EachClaimIsHeldToItsModel) {
  struct Case {
    std::string name;
    double tflops, gbps;
    bool late;
    std::string tier, says;
  };
  const Case cases[] = {
      {"plausible", 500, 2500, false, "verified", ""},
      {"slow", 0.003, 2500, false, "unverified", "TFLOP/s measured, under"},
      {"narrow", 500, 40, false, "unverified", "GB/s measured, under"},
      {"boastful", 500, 50000, false, "failed", "above the model's peak bandwidth"},
      {"impossible", 5000, 2500, false, "failed", "above the model's peak of 989"},
      {"late", 500, 2500, true, "failed", "no answer to round one of the GPU check within"},
  };
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<Stream>> streams;
  for (const Case& k : cases) {
    ctxs.push_back(std::make_unique<grpc::ClientContext>());
    streams.emplace_back();
    Attach(k.name, k.tflops, k.gbps, k.late, ctxs.back().get(), &streams.back());
    const std::string v = Settled(k.name);
    EXPECT_EQ(v.substr(0, k.tier.size()), k.tier) << k.name << ": " << v;
    EXPECT_NE(v.find(k.says), std::string::npos) << k.name << ": " << v;
    if (k.tier == "unverified") {
      EXPECT_EQ(Node(k.name)["state"], "unverified");
    }
  }
  const nlohmann::json ok = Node("plausible");
  ASSERT_EQ(ok["gpus"].size(), 2u) << ok.dump();
  EXPECT_EQ(ok["gpus"][0]["check_tflops"], 500);
  EXPECT_EQ(ok["gpus"][0]["check_gbps"], 2500);
  EXPECT_GT(ok["gpus"][0]["check_bound_tflops"].get<double>(), 0) << "corrald's own timing";
  EXPECT_GT(ok["last_check_ms"].get<int64_t>(), 0);
  const std::string table = cluster_->Corral("nodes --controller " + addr_).out;
  EXPECT_NE(table.find("verified, 500 TFLOP/s 2.5e+03 GB/s per GPU"), std::string::npos) << table;
  for (auto& c : ctxs) c->TryCancel();
  for (auto& s : streams) {
    if (s) s->Finish();
  }
}

}  // namespace
}  // namespace corral::testing
