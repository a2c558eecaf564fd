// Partitions and advance reservations on a real cluster: partitions come from the cluster file
// (corral up passes it to corrald --config), change at run time, survive a restart, and keep
// jobs on their nodes; reservations keep nodes from other jobs; bad admin input changes nothing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

const char* const kPartitioned = R"(nodes:
  - name: cpu
    count: 2
    topology: "pack:1 numa:1(memory=16GB) core:8 pu:1"
  - name: gpu1
    topology: "pack:1 numa:1(memory=64GB) core:8 pu:1"
    gpus: "2xH100@numa0"
partitions:
  - name: cpu
    nodes: cpu*
    default: true
    default-time: "30"
    max-time: "1:00:00"
  - name: gpu
    nodes: [gpu1]
    priority-tier: 2
    backfill: conservative
)";

nlohmann::json Partitions(const LocalCluster& c) {
  CmdResult r = c.Corral("admin partition list --json");
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out)["partitions"] : nlohmann::json::array();
}

bool StateIs(const LocalCluster& c, int64_t id, const std::string& state) {
  nlohmann::json j = QueueJob(c, id);
  return !j.is_null() && j["state"] == state;
}

TEST(Partitions, FromTheClusterFileChangedAtRunTimeAndKeptAcrossARestart) {
  auto c = LocalCluster::Start(kPartitioned);
  ASSERT_TRUE(c);
  nlohmann::json parts = Partitions(*c);
  ASSERT_EQ(parts.size(), 2u) << parts.dump();
  EXPECT_EQ(parts[0]["name"], "cpu");
  EXPECT_EQ(parts[0]["attached_nodes"], 2);
  EXPECT_EQ(parts[1]["attached_nodes"], 1);
  EXPECT_EQ(parts[1]["backfill"], "conservative");
  // `corral nodes` says which partitions hold each node.
  CmdResult nodes = c->Corral("nodes --json");
  ASSERT_EQ(nodes.code, 0) << nodes.err;
  nlohmann::json listed = nlohmann::json::parse(nodes.out)["nodes"];
  std::map<std::string, nlohmann::json> by_name;
  for (size_t i = 0; i < listed.size(); ++i) by_name[listed[i]["name"]] = listed[i]["partitions"];
  EXPECT_EQ(by_name["gpu1"], nlohmann::json{"gpu"}) << listed.dump();
  EXPECT_EQ(by_name["cpu1"], nlohmann::json{"cpu"}) << listed.dump();
  EXPECT_NE(c->Corral("nodes").out.find("PARTITIONS"), std::string::npos);

  // A job of the gpu partition runs on gpu1 although cpu nodes are idle; one without -p runs in
  // cpu, with the partition's default time.
  int64_t g = SubmitOk(*c, "-p gpu -n 2 --wrap 'sleep 0.2'");
  int64_t d = SubmitOk(*c, "-n 2 --wrap 'sleep 0.2'");
  ASSERT_TRUE(
      WaitFor([&] { return StateIs(*c, g, "COMPLETED") && StateIs(*c, d, "COMPLETED"); }, 60000))
      << c->Diagnose();
  EXPECT_EQ(QueueJob(*c, g)["nodelist"], "gpu1");
  EXPECT_NE(QueueJob(*c, d)["nodelist"].get<std::string>().find("cpu"), std::string::npos);
  EXPECT_EQ(QueueJob(*c, d)["partition"], "cpu");
  EXPECT_EQ(QueueJob(*c, d)["time_limit_ms"], 30 * 60 * 1000);

  // Over the partition's max time: it waits, saying why, until the admin raises the limit.
  int64_t longer = SubmitOk(*c, "-t 2:00:00 --wrap true");
  ASSERT_TRUE(
      WaitFor([&] { return QueueJob(*c, longer)["reason"] == "PartitionTimeLimit"; }, 30000))
      << QueueJob(*c, longer).dump();
  CmdResult m = c->Corral("admin partition modify cpu --max-time 3:00:00");
  ASSERT_EQ(m.code, 0) << m.err;
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, longer, "COMPLETED"); }, 30000))
      << QueueJob(*c, longer).dump();

  // Kept across a restart: the file did not change, so the run-time change stays.
  c->KillController();
  ASSERT_TRUE(c->Up());
  parts = Partitions(*c);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0]["max_time_ms"], 3 * 3600 * 1000);
  EXPECT_EQ(parts[0]["default_time_ms"], 30 * 60 * 1000);  // what modify did not name stays

  // Added at run time, and draining: no new jobs.
  ASSERT_EQ(c->Corral("admin partition add all --nodes ALL --state drain").code, 0);
  CmdResult drained = c->Corral("submit -p all --wrap true");
  EXPECT_EQ(drained.code, 4);
  EXPECT_NE(drained.err.find("--partition all: draining"), std::string::npos) << drained.err;
  EXPECT_EQ(Partitions(*c)[2]["attached_nodes"], 3);
}

// -p cpu,gpu: the job runs in whichever partition starts it first, and records that one.
TEST(Partitions, AJobOfSeveralPartitionsRunsInTheOneWithRoom) {
  auto c = LocalCluster::Start(kPartitioned);
  ASSERT_TRUE(c);
  // Both cpu nodes busy: the next 8-CPU job of cpu,gpu runs on gpu1 at once.
  int64_t b1 = SubmitOk(*c, "-p cpu -n 8 -t 5 --wrap 'sleep 60'");
  int64_t b2 = SubmitOk(*c, "-p cpu -n 8 -t 5 --wrap 'sleep 60'");
  ASSERT_TRUE(
      WaitFor([&] { return StateIs(*c, b1, "RUNNING") && StateIs(*c, b2, "RUNNING"); }, 30000))
      << c->Diagnose();
  int64_t either = SubmitOk(*c, "-p cpu,gpu -n 8 -t 5 --wrap true");
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, either, "COMPLETED"); }, 30000))
      << QueueJob(*c, either).dump();
  EXPECT_EQ(QueueJob(*c, either)["nodelist"], "gpu1");
  EXPECT_EQ(QueueJob(*c, either)["partition"], "gpu");
  // Pending, it shows both; a name that is not defined is refused, naming it.
  int64_t held = SubmitOk(*c, "-H -p gpu,cpu,gpu --wrap true");
  EXPECT_EQ(QueueJob(*c, held)["partition"], "gpu,cpu");
  CmdResult bad = c->Corral("submit -p cpu,nope --wrap true");
  EXPECT_EQ(bad.code, 4);
  EXPECT_NE(bad.err.find("--partition: no partition named \"nope\""), std::string::npos) << bad.err;
  CmdResult empty = c->Corral("submit -p , --wrap true");
  EXPECT_NE(empty.code, 0);
  EXPECT_NE(empty.err.find("--partition"), std::string::npos) << empty.err;
  EXPECT_EQ(c->Corral("cancel " + std::to_string(b1) + " " + std::to_string(b2)).code, 0);
}

TEST(Partitions, BadAdminInputIsRefusedAndChangesNothing) {
  auto c = LocalCluster::Start(kPartitioned);
  ASSERT_TRUE(c);
  const std::string before = Partitions(*c).dump();
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const Case cases[] = {
      {"admin partition add cpu --nodes cpu1", 4, "cpu: exists already"},
      {"admin partition add 'x y' --nodes cpu1", 4, "name: \"x y\""},
      {"admin partition add x", 4, "nodes: must name at least one node"},
      {"admin partition add x --nodes 'cpu;1'", 4, "nodes: \"cpu;1\""},
      {"admin partition add x --nodes cpu1 --max-nodes -4", 4, "max-nodes:"},
      {"admin partition add x --nodes cpu1 --priority-tier 70000", 4, "priority-tier:"},
      {"admin partition add x --nodes cpu1 --state sideways", 4, "state: \"sideways\""},
      {"admin partition add x --nodes cpu1 --preempt-mode suspend", 4, "preempt-mode:"},
      {"admin partition add x --nodes cpu1 --backfill greedy", 4, "backfill: \"greedy\""},
      {"admin partition add x --nodes cpu1 --max-time soon", 2, "--max-time"},
      {"admin partition add x --nodes cpu1 --default yes --default-time 2:00:00 --max-time 1:00:00",
       4, "default-time: must not exceed max-time"},
      {"admin partition modify ghost --max-nodes 2", 4, "ghost: no such partition"},
      {"admin partition remove ghost", 4, "ghost: no such partition"},
      {"admin partition list cpu", 2, "takes no name"},
      {"admin partition remove cpu --max-nodes 2", 2, "takes no settings"},
      {"admin partition", 2, "give an operation"},
      {"submit -p nope --wrap true", 4,
       "--partition: no partition named \"nope\" (defined: cpu, gpu)"},
  };
  for (const Case& k : cases) {
    CmdResult r = c->Corral(k.args);
    EXPECT_EQ(r.code, k.code) << k.args << ": " << r.err;
    EXPECT_NE(r.err.find(k.says), std::string::npos) << k.args << ": " << r.err;
  }
  EXPECT_EQ(Partitions(*c).dump(), before);
  // A partition that jobs use stays.
  int64_t held = SubmitOk(*c, "-H -p gpu --wrap true");
  CmdResult rm = c->Corral("admin partition remove gpu");
  EXPECT_EQ(rm.code, 4);
  EXPECT_NE(rm.err.find("1 pending or running job(s) use it (job " + std::to_string(held)),
            std::string::npos)
      << rm.err;
}

TEST(Partitions, CorraldRefusesABadConfigFileNamingTheField) {
  const std::string dir = ::testing::TempDir() + "/corral-bad-config-" + std::to_string(getpid());
  const std::string file = dir + "/cluster.yaml";
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  {
    std::ofstream out(file);
    out << kPartitioned << "  - name: broken\n    nodes: cpu1\n    max-time: forever\n";
  }
  FILE* p = popen((BinDir() + "/corrald --state-dir " + dir +
                   "/state --listen 127.0.0.1:0 --config " + file + " 2>&1")
                      .c_str(),
                  "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;
  EXPECT_NE(out.find("partitions[2].max-time: \"forever\" is not a time"), std::string::npos)
      << out;
}

TEST(Reservations, NodesAreKeptForTheirUsersAndFromEveryoneElse) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  const std::string me = FirstLine(c->Shell("id -un"));
  // Maintenance on both CPU nodes: a full-node job goes to gpu1, a second one waits.
  CmdResult add = c->Corral(
      "admin reservation add maint --nodes 'cpu*' --maintenance --start now --duration 1:00:00");
  ASSERT_EQ(add.code, 0) << add.err;
  int64_t a = SubmitOk(*c, "-n 8 -t 10 --wrap 'sleep 30'");
  int64_t b = SubmitOk(*c, "-n 8 -t 10 --wrap 'sleep 30'");
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, a, "RUNNING"); }, 30000)) << c->Diagnose();
  EXPECT_EQ(QueueJob(*c, a)["nodelist"], "gpu1");
  ASSERT_TRUE(WaitFor([&] { return QueueJob(*c, b)["reason"] == "Resources"; }, 30000))
      << QueueJob(*c, b).dump();
  // Reservations never overlap on a node.
  CmdResult overlap = c->Corral("admin reservation add mine --nodes cpu1 --users " + me +
                                " --start now+10 --duration 30");
  EXPECT_EQ(overlap.code, 4);
  EXPECT_NE(overlap.err.find("overlaps: reservation maint holds node cpu1"), std::string::npos)
      << overlap.err;
  // Once it is gone, the waiting job starts on a CPU node.
  ASSERT_EQ(c->Corral("admin reservation remove maint").code, 0);
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, b, "RUNNING"); }, 30000)) << c->Diagnose();
  EXPECT_NE(QueueJob(*c, b)["nodelist"].get<std::string>().find("cpu"), std::string::npos);
  ASSERT_EQ(c->Corral("cancel " + std::to_string(a) + " " + std::to_string(b)).code, 0);

  // A reservation for this user on cpu2: its job runs there, and others do not.
  add = c->Corral("admin reservation add mine --nodes cpu2 --users " + me +
                  " --start now --duration 1:00:00");
  ASSERT_EQ(add.code, 0) << add.err;
  int64_t in = SubmitOk(*c, "--reservation mine -n 8 -t 10 --wrap 'sleep 0.2'");
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, in, "COMPLETED"); }, 30000)) << c->Diagnose();
  EXPECT_EQ(QueueJob(*c, in)["nodelist"], "cpu2");
  CmdResult refused = c->Corral("submit --reservation nope --wrap true");
  EXPECT_EQ(refused.code, 4);
  EXPECT_NE(refused.err.find("--reservation: no reservation named \"nope\""), std::string::npos)
      << refused.err;

  // Kept across a restart.
  c->KillController();
  ASSERT_TRUE(c->Up());
  CmdResult list = c->Corral("admin reservation list --json");
  ASSERT_EQ(list.code, 0) << list.err;
  nlohmann::json all = nlohmann::json::parse(list.out)["reservations"];
  ASSERT_EQ(all.size(), 1u) << list.out;
  EXPECT_EQ(all[0]["name"], "mine");
  EXPECT_EQ(all[0]["users"][0], me);

  // Hostile input.
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const Case cases[] = {
      {"admin reservation add x --nodes cpu1 --users " + me + " --start yesterday --duration 5", 2,
       "--start: \"yesterday\" is not a time"},
      {"admin reservation add x --nodes cpu1 --start now --duration 5", 4, "users: name the"},
      {"admin reservation add x --nodes cpu1 --maintenance --users " + me +
           " --start now --duration 5",
       4, "maintenance: a maintenance reservation admits no users"},
      {"admin reservation add x --nodes cpu1 --maintenance --start now+10 --end now+5", 4,
       "end: must be after start"},
      {"admin reservation add x --nodes cpu1 --maintenance --start now --end now --duration 5", 2,
       "--end or --duration"},
      {"admin reservation remove ghost", 4, "ghost: no such reservation"},
  };
  for (const Case& k : cases) {
    CmdResult r = c->Corral(k.args);
    EXPECT_EQ(r.code, k.code) << k.args << ": " << r.err;
    EXPECT_NE(r.err.find(k.says), std::string::npos) << k.args << ": " << r.err;
  }
  list = c->Corral("admin reservation list --json");
  EXPECT_EQ(nlohmann::json::parse(list.out)["reservations"].size(), 1u);
}

}  // namespace
}  // namespace corral::testing
