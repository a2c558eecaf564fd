// What a provider runs on its machine: `corral-node status` shows the node as the cluster sees
// it; `corral-node remove` drains it, lets the running job finish, then stops its corral-node.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

const char* const kOneNode = R"(nodes:
  - name: box
    topology: "pack:1 numa:1(memory=4GB) core:2 pu:1"
)";

TEST(Provider, StatusThenRemove) {
  auto c = LocalCluster::Start(kOneNode);
  ASSERT_TRUE(c);
  const std::string node = BinDir() + "/corral-node";
  CmdResult s = c->Shell(node + " status --name box");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("node box: idle"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("2 CPUs"), std::string::npos) << s.out;
  s = c->Shell(node + " status --name box --json");
  ASSERT_EQ(s.code, 0) << s.err;
  const nlohmann::json j = nlohmann::json::parse(s.out);
  EXPECT_EQ(j["name"], "box");
  EXPECT_EQ(j["cpus"], 2);
  EXPECT_TRUE(j["hold"].is_null());

  CmdResult bad = c->Shell(node + " status --name nosuch");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("does not know it"), std::string::npos) << bad.err;
  bad = c->Shell(node + " remove --name box --timeout -1");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--timeout"), std::string::npos) << bad.err;
  bad = c->Shell(node + " status --frobnicate");
  EXPECT_EQ(bad.code, 2);

  const int64_t job = SubmitOk(*c, "--wrap 'sleep 2'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, job) == "RUNNING"; }, 20000)) << c->Diagnose();
  CmdResult r = c->Shell(node + " remove --name box --reason retiring --state-dir " + c->dir() +
                         "/cluster/spool/box/state");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("drained; waiting"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stopped"), std::string::npos) << r.out;
  EXPECT_EQ(QueueState(*c, job), "COMPLETED") << "its job finished first";
  s = c->Shell(node + " status --name box --json");
  ASSERT_EQ(s.code, 0) << s.err;
  const nlohmann::json after = nlohmann::json::parse(s.out);
  EXPECT_EQ(after["hold"]["reason"], "retiring") << s.out;
  EXPECT_TRUE(WaitFor(
      [&] {
        CmdResult x = c->Shell(node + " status --name box --json");
        return x.code == 0 && nlohmann::json::parse(x.out)["state"] == "down";
      },
      20000));
}

// A provider names its machine for itself; the name the node carries stays, and the label
// outlives a restart of corrald.
TEST(Provider, RenameSetsALabelThatOutlivesARestart) {
  auto c = LocalCluster::Start(kOneNode);
  ASSERT_TRUE(c);
  const std::string node = BinDir() + "/corral-node";
  // With the node's own certificate, not the admin's token.
  const std::string own = "env -u CORRAL_TOKEN " + node + " rename --name box --state-dir " +
                          c->dir() + "/cluster/spool/box/state ";
  CmdResult r = c->Shell(own + "\"Alice's rig #1\"");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("now labelled \"Alice's rig #1\""), std::string::npos) << r.out;
  r = c->Shell(node + " status --name box");
  EXPECT_NE(r.out.find("node box (\"Alice's rig #1\"): idle"), std::string::npos) << r.out;
  auto nodes = nlohmann::json::parse(c->Corral("nodes --json").out);
  ASSERT_EQ(nodes["nodes"].size(), 1u);
  EXPECT_EQ(nodes["nodes"][0]["name"], "box");
  EXPECT_EQ(nodes["nodes"][0]["label"], "Alice's rig #1");
  EXPECT_NE(c->Corral("nodes").out.find("Alice's rig #1"), std::string::npos);

  r = c->Shell(node + " rename --name box " + std::string(65, 'x'));
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("longer than 64"), std::string::npos) << r.err;
  r = c->Shell(node + " rename --name box \"$(printf 'a\\033[2Jb')\"");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("control character"), std::string::npos) << r.err;
  r = c->Shell(node + " rename --name box");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("label"), std::string::npos) << r.err;
  r = c->Shell(node + " rename --name nosuch x");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("no such node"), std::string::npos) << r.err;

  c->KillController();
  ASSERT_TRUE(c->Up());
  ASSERT_TRUE(WaitFor(
      [&] {
        CmdResult x = c->Corral("nodes --json");
        if (x.code != 0) return false;
        auto j = nlohmann::json::parse(x.out);
        return j["nodes"].size() == 1 && j["nodes"][0]["label"] == "Alice's rig #1";
      },
      20000))
      << c->Corral("nodes --json").out;
  r = c->Shell(node + " rename --name box ''");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("label cleared"), std::string::npos) << r.out;
  EXPECT_EQ(nlohmann::json::parse(c->Corral("nodes --json").out)["nodes"][0]["label"], "");
}

TEST(Provider, HostileNodeFlagsAreRefusedByName) {
  auto c = LocalCluster::Start(kOneNode);
  ASSERT_TRUE(c);
  const std::string node = BinDir() + "/corral-node --controller " + c->Address();
  const std::string topo = " --topology 'pack:1 core:1 pu:1'";
  struct Case {
    std::string args, says;
  };
  const Case cases[] = {
      {"--simulate 0" + topo, "--simulate: must be 1..100000"},
      {"--simulate 100001" + topo, "--simulate: must be 1..100000"},
      {"--simulate abc" + topo, "simulate"},
      {"--simulate 3", "--simulate: give the nodes' --topology"},
      {"--simulate 2 --simulate-runtime -1" + topo, "--simulate-runtime"},
      {"--contain maybe" + topo, "contain"},
      {"status --timeout 5", "unrecognised option"},
  };
  for (const Case& k : cases) {
    CmdResult r = c->Shell("timeout 20 " + node + " " + k.args);
    EXPECT_EQ(r.code, 2) << k.args << ": " << r.err;
    EXPECT_NE(r.err.find(k.says), std::string::npos) << k.args << ": " << r.err;
  }
}

}  // namespace
}  // namespace corral::testing
