// corral-node --simulate: hundreds of simulated nodes in one process against a real corrald.
// They all register; an array wider than any one node runs to its end across them; a job whose
// run time passes its limit ends TIMEOUT; a cancelled one CANCELLED; a two-node job and a
// `corral run` step complete.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

class SimNodes : public ::testing::Test {
 protected:
  static constexpr int kNodes = 300;

  void SetUp() override {
    cluster_ = LocalCluster::Start();  // for its directory and CLI
    ASSERT_TRUE(cluster_);
    d_ = cluster_->dir() + "/sim";
    addr_ = cluster_->StartController(d_, "--allow-simulated-gpus");
    ASSERT_FALSE(addr_.empty());
    CmdResult start =
        cluster_->Shell("CORRAL_JOIN_TOKEN=$(cat " + d_ + "/join.token) " + BinDir() +
                        "/corral-node --controller " + addr_ + " --spool-dir " + d_ +
                        "/spool --simulate " + std::to_string(kNodes) +
                        " --name s --topology 'pack:1 numa:1(memory=8GB) core:4 pu:1' --gpus 1xT4 "
                        "--simulate-runtime 0.2 >" +
                        d_ + "/node.log 2>&1 & echo $! >" + d_ + "/node.pid");
    ASSERT_EQ(start.code, 0) << start.err;
  }
  void TearDown() override {
    if (!cluster_) return;
    cluster_->Shell("kill $(cat " + d_ + "/node.pid)");
    cluster_->StopController(d_);
  }
  CmdResult Corral(const std::string& args) const {
    return cluster_->Corral(args + " --controller " + addr_);
  }
  std::string State(int64_t id) const {
    CmdResult r = Corral("queue --json -a -j " + std::to_string(id));
    if (r.code != 0) return "?";
    const nlohmann::json jobs = nlohmann::json::parse(r.out)["jobs"];
    return jobs.empty() ? "?" : std::string(jobs[0]["state"]);
  }
  int64_t Submit(const std::string& args) const {
    CmdResult r = Corral("submit --parsable " + args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.code == 0 ? std::stoll(FirstLine(r)) : -1;
  }

  // Submits with `env` set in the submitting shell (the job takes the environment with it).
  int64_t SubmitWith(const std::string& env, const std::string& args) const {
    CmdResult r = cluster_->Shell(env + " " + BinDir() + "/corral submit --parsable " + args +
                                  " --controller " + addr_);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.code == 0 ? std::stoll(FirstLine(r)) : -1;
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::string d_, addr_;
};

TEST_F(SimNodes, HundredsOfNodesRunTheirJobs) {
  int idle = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        CmdResult r = Corral("nodes --json");
        if (r.code != 0) return false;
        const nlohmann::json parsed = nlohmann::json::parse(r.out);
        idle = 0;
        for (const auto& n : parsed["nodes"]) idle += n["state"] == "idle" ? 1 : 0;
        return idle == kNodes;
      },
      60000))
      << idle << " of " << kNodes << " idle\n"
      << cluster_->ReadFile(d_ + "/node.log").substr(0, 4000);

  // 600 tasks of a whole node each: two waves over the 300 nodes.
  const int64_t array = Submit("--array 0-599 -c 4 --gpus 1 --wrap true");
  CmdResult w = Corral("wait -q --timeout 120 " + std::to_string(array));
  EXPECT_EQ(w.code, 0) << w.err;
  CmdResult a = Corral("acct --json");
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(nlohmann::json::parse(a.out)["jobs"].size(), 600u);

  const int64_t late = SubmitWith("CORRAL_SIM_RUNTIME=60", "-t 0:02 --wrap true");
  const int64_t kept = SubmitWith("CORRAL_SIM_RUNTIME=300", "--wrap true");
  const int64_t wide = Submit("-N 2 -n 2 -c 4 --wrap true");
  EXPECT_TRUE(WaitFor([&] { return State(kept) == "RUNNING"; }, 20000));
  EXPECT_EQ(Corral("cancel " + std::to_string(kept)).code, 0);
  EXPECT_TRUE(WaitFor([&] { return State(kept) == "CANCELLED"; }, 20000)) << State(kept);
  EXPECT_TRUE(WaitFor([&] { return State(wide) == "COMPLETED"; }, 20000)) << State(wide);
  EXPECT_TRUE(WaitFor([&] { return State(late) == "TIMEOUT"; }, 20000)) << State(late);
  CmdResult run = Corral("run -N2 -n2 true");
  EXPECT_EQ(run.code, 0) << run.err;
}

}  // namespace
}  // namespace corral::testing
