// Preemption on a real cluster: a job of a higher partition tier preempts a running job of a
// lower one, which gets SIGTERM, is requeued and runs again once the preemptor is done; by QOS,
// a victim is cancelled and ends PREEMPTED. Both survive as the jobs' records say.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

// One 4-CPU node, a low partition whose jobs may be requeued by the high one's.
const char* const kTiers = R"(nodes:
  - name: n1
    topology: "pack:1 numa:1(memory=16GB) core:4 pu:1"
partitions:
  - name: low
    nodes: ALL
    default: true
    preempt-mode: requeue
    grace-time: "00:00:30"
  - name: high
    nodes: ALL
    priority-tier: 2
)";

bool StateIs(const LocalCluster& c, int64_t id, const std::string& state) {
  nlohmann::json j = QueueJob(c, id);
  return !j.is_null() && j["state"] == state;
}

// A batch script that notes each SIGTERM in term.$T and then ends, and otherwise runs on.
void WriteVictim(const LocalCluster& c) {
  c.Shell(
      "cat >victim.sh <<'EOF'\n"
      "#!/bin/sh\n"
      "echo started >>runs.$T\n"
      "trap 'echo term >>term.$T; exit 143' TERM\n"
      "while :; do sleep 0.05; done\n"
      "EOF\n"
      "true");
}

TEST(Preemption, AHigherTierRequeuesALowerTiersJobWhichRunsAgainAfterIt) {
  auto c = LocalCluster::Start(kTiers);
  ASSERT_TRUE(c);
  WriteVictim(*c);
  int64_t victim = SubmitOk(*c, "-n 4 --export=ALL,T=v victim.sh");
  ASSERT_TRUE(WaitFor([&] { return c->ReadFile("runs.v") == "started\n"; }, 30000))
      << c->Diagnose();
  int64_t high = SubmitOk(*c, "-p high -n 4 --wrap 'echo done >high.out'");
  // SIGTERM reached the victim within its grace time; it went back to the queue, the preemptor
  // ran, and then the victim ran again.
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, high, "COMPLETED"); }, 60000))
      << QueueJob(*c, victim).dump() << c->Diagnose();
  EXPECT_EQ(c->ReadFile("term.v"), "term\n");
  ASSERT_TRUE(WaitFor([&] { return c->ReadFile("runs.v") == "started\nstarted\n"; }, 30000))
      << QueueJob(*c, victim).dump();
  nlohmann::json v = QueueJob(*c, victim);
  EXPECT_EQ(v["state"], "RUNNING") << v.dump();
  EXPECT_EQ(v["restarts"], 1) << v.dump();
  ASSERT_EQ(c->Corral("cancel " + std::to_string(victim)).code, 0);
}

TEST(Preemption, AVictimInItsGraceTimeIsStillRequeuedAfterAControllerRestart) {
  auto c = LocalCluster::Start(kTiers);
  ASSERT_TRUE(c);
  // This victim takes two seconds to stop after SIGTERM.
  c->Shell(
      "cat >slow.sh <<'EOF'\n"
      "#!/bin/sh\n"
      "echo started >>runs\n"
      "trap 'echo term >>term; sleep 2; exit 143' TERM\n"
      "while :; do sleep 0.05; done\n"
      "EOF\n"
      "true");
  int64_t victim = SubmitOk(*c, "-n 4 slow.sh");
  ASSERT_TRUE(WaitFor([&] { return c->ReadFile("runs") == "started\n"; }, 30000));
  int64_t high = SubmitOk(*c, "-p high -n 4 --wrap true");
  ASSERT_TRUE(WaitFor([&] { return c->ReadFile("term") == "term\n"; }, 30000))
      << QueueJob(*c, victim).dump();
  nlohmann::json v = QueueJob(*c, victim);
  EXPECT_EQ(v["preempted_by"], high) << v.dump();
  EXPECT_EQ(v["preempt_mode"], "requeue") << v.dump();
  c->KillController();
  ASSERT_TRUE(c->Up());
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, high, "COMPLETED"); }, 60000))
      << QueueJob(*c, victim).dump() << c->Diagnose();
  ASSERT_TRUE(WaitFor([&] { return c->ReadFile("runs") == "started\nstarted\n"; }, 30000))
      << QueueJob(*c, victim).dump();
  EXPECT_EQ(QueueJob(*c, victim)["restarts"], 1);
  ASSERT_EQ(c->Corral("cancel " + std::to_string(victim)).code, 0);
}

TEST(Preemption, ByQosTheVictimIsCancelledAndEndsPreempted) {
  auto c = LocalCluster::Start(R"(nodes:
  - name: n1
    topology: "pack:1 numa:1(memory=16GB) core:4 pu:1"
)");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->Corral("admin qos add scavenger --preempt-mode cancel").code, 0);
  CmdResult add = c->Corral("admin qos add urgent --priority 10 --preempt scavenger");
  ASSERT_EQ(add.code, 0) << add.err;
  CmdResult list = c->Corral("admin qos list --json");
  ASSERT_EQ(list.code, 0);
  nlohmann::json qos = nlohmann::json::parse(list.out)["qos"];
  bool listed = false;
  for (size_t i = 0; i < qos.size(); ++i) {
    if (qos[i]["name"] == "urgent") listed = qos[i]["preempt"] == nlohmann::json{"scavenger"};
  }
  EXPECT_TRUE(listed) << qos.dump();
  WriteVictim(*c);
  int64_t victim = SubmitOk(*c, "--qos scavenger -n 4 --export=ALL,T=s victim.sh");
  int64_t other = SubmitOk(*c, "-n 1 --wrap 'sleep 0.1'");  // normal: never preempted
  ASSERT_TRUE(WaitFor([&] { return c->ReadFile("runs.s") == "started\n"; }, 30000))
      << c->Diagnose();
  int64_t urgent = SubmitOk(*c, "--qos urgent -n 4 --wrap true");
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, urgent, "COMPLETED"); }, 60000))
      << QueueJob(*c, victim).dump() << c->Diagnose();
  nlohmann::json v = QueueJob(*c, victim);
  EXPECT_EQ(v["state"], "PREEMPTED") << v.dump();
  EXPECT_EQ(v["reason"], "preempted by job " + std::to_string(urgent)) << v.dump();
  EXPECT_EQ(c->ReadFile("term.s"), "term\n");
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, other, "COMPLETED"); }, 30000));

  // Hostile QOS definitions are refused, naming the field, and change nothing.
  const std::string before = c->Corral("admin qos list --json").out;
  for (const auto& [args, says] : std::vector<std::pair<std::string, std::string>>{
           {"admin qos add x --preempt-mode suspend", "preempt-mode: \"suspend\""},
           {"admin qos add x --preempt x", "cannot preempt itself"},
           {"admin qos add x --preempt 'a;b'", "preempt: \"a;b\""},
           {"admin qos add x --grace-time 3-00:00:00", "grace-time:"}}) {
    CmdResult r = c->Corral(args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_NE(r.err.find(says), std::string::npos) << args << ": " << r.err;
  }
  EXPECT_EQ(c->Corral("admin qos list --json").out, before);
}

}  // namespace
}  // namespace corral::testing
