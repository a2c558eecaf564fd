// Placement on a node, end to end: a GPU job's GPUs share a NUMA node, CUDA_VISIBLE_DEVICES lists
// them and CORRAL_CPU_BIND names CPUs of that NUMA node; a share of a GPU runs beside another
// share on the same device, `corral queue --json` shows both and `corral acct` the fraction.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

// One node of two NUMA nodes (PUs 0-3 and 4-7): GPU 0 on NUMA 0, GPUs 1 and 2 on NUMA 1.
const char* const kTwoNuma = R"(nodes:
  - name: big
    topology: "pack:1 numa:2(memory=16GB) core:4 pu:1"
    gpus: "1xT4@numa0,2xT4@numa1"
)";

TEST(Placement, GpusAndCpusOfOneNumaNode) {
  auto c = LocalCluster::Start(kTwoNuma);
  ASSERT_TRUE(c);
  const int64_t id = SubmitOk(
      *c, "--gpus=2 -c 2 -o out-%j.txt --wrap 'echo $CUDA_VISIBLE_DEVICES $CORRAL_CPU_BIND'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, id) == "COMPLETED"; }, 20000)) << c->Diagnose();
  EXPECT_EQ(c->ReadFile(c->dir() + "/out-" + std::to_string(id) + ".txt"), "1,2 4-5\n");
  const nlohmann::json j = QueueJob(*c, id);
  ASSERT_EQ(j["allocation"].size(), 1u) << j.dump();
  EXPECT_EQ(j["allocation"][0]["gpus"], nlohmann::json::array({1, 2}));
}

TEST(Placement, SharesOfOneGpuRunSideBySide) {
  auto c = LocalCluster::Start(kTwoNuma);
  ASSERT_TRUE(c);
  // The three GPUs held whole but one, then two halves: both go on the one left, at once.
  const int64_t whole = SubmitOk(*c, "--gpus=2 --wrap 'sleep 300'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, whole) == "RUNNING"; }, 20000)) << c->Diagnose();
  std::vector<int64_t> halves;
  for (int k = 0; k < 2; ++k) {
    halves.push_back(SubmitOk(*c,
                              "--gpus=t4:0.5 -o half-%j.txt --wrap "
                              "'echo $CUDA_VISIBLE_DEVICES $CORRAL_GPU_SHARE; sleep 300'"));
  }
  for (int64_t h : halves) {
    ASSERT_TRUE(WaitFor([&] { return QueueState(*c, h) == "RUNNING"; }, 20000))
        << QueueJob(*c, h).dump() << c->Diagnose();
  }
  const int64_t third = SubmitOk(*c, "--gpus=0.5 --wrap true");
  const nlohmann::json a = QueueJob(*c, halves[0]), b = QueueJob(*c, halves[1]);
  EXPECT_EQ(a["allocation"][0]["gpus"], b["allocation"][0]["gpus"]) << a.dump() << b.dump();
  EXPECT_EQ(a["allocation"][0]["gpu_share"], 0.5);
  EXPECT_EQ(a["gpu_share"], 0.5);
  for (int64_t h : halves) {
    const std::string out = c->dir() + "/half-" + std::to_string(h) + ".txt";
    EXPECT_TRUE(WaitFor([&] { return !c->ReadFile(out).empty(); }, 10000));
    const int gpu = a["allocation"][0]["gpus"][0];
    EXPECT_EQ(c->ReadFile(out), std::to_string(gpu) + " 0.500\n");
  }
  EXPECT_EQ(QueueState(*c, third), "PENDING") << "no GPU has half left";
  c->Corral("cancel " + std::to_string(whole));
  EXPECT_TRUE(WaitFor([&] { return QueueState(*c, third) == "COMPLETED"; }, 20000))
      << c->Diagnose();
  // Accounting keeps the share: its model with the fraction, and GPU time at half the rate.
  c->Corral("cancel " + std::to_string(halves[0]));
  nlohmann::json row;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto rows = nlohmann::json::parse(
            c->Corral("acct --json -j " + std::to_string(halves[0])).out)["jobs"];
        if (rows.size() != 1) return false;
        row = rows[0];
        return true;
      },
      20000))
      << c->Diagnose();
  EXPECT_EQ(row["ngpus"], 1) << row.dump();
  EXPECT_EQ(row["gpu_models"], "t4:0.5") << row.dump();
  const int64_t elapsed = row["elapsed_ms"];
  EXPECT_GT(elapsed, 0) << row.dump();
  EXPECT_EQ(row["gpu_ms"], elapsed / 2) << row.dump();
  CmdResult bad = c->Corral("submit --gpus=1.5 --wrap true");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--gpus: \"1.5\" is not a share of a GPU"), std::string::npos) << bad.err;
  bad = c->Corral("submit -N 2 -n 2 --gpus=0.5 --wrap true");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("a share of a GPU is of one GPU on one node"), std::string::npos)
      << bad.err;
}

// Two nodes of different GPU models, priced by the admin; the t4 node's provider takes jobs of
// at most an hour.
const char* const kMarket = R"(scheduler:
  gpu-price: [t4=0.5, a100=2.5]
nodes:
  - name: cheap
    topology: "pack:1 numa:1(memory=8GB) core:2 pu:1"
    gpus: "2xT4"
    max_time: "1:00:00"
  - name: dear
    topology: "pack:1 numa:1(memory=8GB) core:2 pu:1"
    gpus: "2xA100"
)";

TEST(Placement, CheapestTakesTheCheapModelAndTermsAreKept) {
  auto c = LocalCluster::Start(kMarket);
  ASSERT_TRUE(c);
  const int64_t cheap = SubmitOk(*c, "--gpus=1 --gpu-choice=cheapest -t 10 --wrap true");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, cheap) == "COMPLETED"; }, 20000))
      << c->Diagnose();
  nlohmann::json j = QueueJob(*c, cheap);
  EXPECT_EQ(j["allocation"][0]["node"], "cheap") << j.dump();
  EXPECT_EQ(j["gpu_choice"], "cheapest");
  EXPECT_EQ(j["kind"], "inference");
  // Longer than the t4 node takes: the a100 node, the only one whose terms allow it.
  const int64_t longer = SubmitOk(*c, "--gpus=1 --gpu-choice=cheapest -t 2:00:00 --wrap true");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, longer) == "COMPLETED"; }, 20000))
      << c->Diagnose();
  EXPECT_EQ(QueueJob(*c, longer)["allocation"][0]["node"], "dear");
  // Under the a100's rate and longer than the t4 node takes: nothing takes it, and it says why.
  const int64_t stuck = SubmitOk(*c, "--gpus=1 --max-price=1 -t 2:00:00 --wrap true");
  ASSERT_TRUE(WaitFor(
      [&] {
        return QueueJob(*c, stuck)["reason"].get<std::string>().rfind("ReqNodeNotAvail (terms)",
                                                                      0) == 0;
      },
      20000))
      << QueueJob(*c, stuck).dump();
  EXPECT_EQ(QueueJob(*c, stuck)["max_price"], "1");
  const CmdResult nodes = c->Corral("nodes --json");
  ASSERT_EQ(nodes.code, 0) << nodes.err;
  EXPECT_NE(nodes.out.find("\"max_time_ms\": 3600000"), std::string::npos) << nodes.out;
  CmdResult bad = c->Corral("submit --gpus=1 --gpu-choice=cheap --wrap true");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--gpu-choice"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace corral::testing
