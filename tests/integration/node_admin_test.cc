// An admin's holds on nodes, end to end: drain lets a running job finish and takes no new one,
// down requeues what runs there, resume puts the node back, and a hold outlives a kill -9 of
// corrald; bad requests are refused with a reason.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

const char* const kTwoNodes = R"(nodes:
  - name: a
    topology: "pack:1 numa:1(memory=4GB) core:2 pu:1"
  - name: b
    topology: "pack:1 numa:1(memory=4GB) core:2 pu:1"
)";

nlohmann::json Node(const LocalCluster& c, const std::string& name) {
  CmdResult r = c.Corral("nodes --json");
  if (r.code != 0) return nullptr;
  const nlohmann::json all = nlohmann::json::parse(r.out);
  for (const auto& n : all["nodes"]) {
    if (n["name"] == name) return n;
  }
  return nullptr;
}

std::string NodeOf(const LocalCluster& c, int64_t id) {
  const nlohmann::json j = QueueJob(c, id);
  if (j.is_null() || j["allocation"].empty()) return "";
  return j["allocation"][0]["node"];
}

TEST(NodeAdmin, DrainDownAndResume) {
  auto c = LocalCluster::Start(kTwoNodes);
  ASSERT_TRUE(c);
  const int64_t first = SubmitOk(*c, "-c 2 --wrap 'sleep 300'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, first) == "RUNNING"; }, 20000)) << c->Diagnose();
  const std::string x = NodeOf(*c, first), y = x == "a" ? "b" : "a";

  // Drain: the running job goes on; the next one goes to the other node, a third waits.
  CmdResult r = c->Corral("admin node drain " + x + " --reason 'disk check'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "node " + x + ": drained\n");
  nlohmann::json n = Node(*c, x);
  EXPECT_EQ(n["state"], "draining") << n.dump();
  EXPECT_EQ(n["hold"]["reason"], "disk check") << n.dump();
  EXPECT_EQ(n["hold"]["state"], "drain");
  EXPECT_NE(c->Corral("nodes").out.find("disk check"), std::string::npos);
  const int64_t second = SubmitOk(*c, "-c 2 --wrap 'sleep 300'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, second) == "RUNNING"; }, 20000));
  EXPECT_EQ(NodeOf(*c, second), y);
  const int64_t third = SubmitOk(*c, "-c 2 --wrap 'sleep 300'");
  EXPECT_EQ(QueueState(*c, first), "RUNNING");
  ASSERT_EQ(c->Corral("cancel " + std::to_string(first)).code, 0);
  ASSERT_TRUE(WaitFor([&] { return Node(*c, x)["state"] == "drained"; }, 20000))
      << Node(*c, x).dump();
  EXPECT_EQ(QueueState(*c, third), "PENDING") << "a drained node takes no job";

  // The hold outlives a crash of the controller.
  c->KillController();
  ASSERT_TRUE(c->Up());
  ASSERT_TRUE(WaitFor([&] { return Node(*c, x)["hold"]["state"] == "drain"; }, 20000))
      << Node(*c, x).dump();
  EXPECT_EQ(QueueState(*c, third), "PENDING");

  // Resume: the waiting job starts there.
  r = c->Corral("admin node resume " + x);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, third) == "RUNNING"; }, 20000))
      << QueueJob(*c, third).dump() << c->Diagnose();
  EXPECT_EQ(NodeOf(*c, third), x);
  EXPECT_TRUE(Node(*c, x)["hold"].is_null());

  // Down: what runs there is requeued (and waits: the other node is full).
  r = c->Corral("admin node down " + y + " --reason 'fan failure'");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, second) == "PENDING"; }, 20000))
      << QueueJob(*c, second).dump();
  EXPECT_EQ(QueueJob(*c, second)["restarts"], 1);
  EXPECT_EQ(Node(*c, y)["state"], "down");
  r = c->Corral("admin node list --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json holds = nlohmann::json::parse(r.out)["holds"];
  ASSERT_EQ(holds.size(), 1u) << r.out;
  EXPECT_EQ(holds[0]["node"], y);
  EXPECT_EQ(holds[0]["reason"], "fan failure");
  EXPECT_NE(c->Corral("admin node list").out.find("fan failure"), std::string::npos);
}

TEST(NodeAdmin, BadRequestsSayWhy) {
  auto c = LocalCluster::Start(kTwoNodes);
  ASSERT_TRUE(c);
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const Case cases[] = {
      {"admin node drain nosuch --reason x", 4, "node nosuch: no such node"},
      {"admin node drain 'a,zz*' --reason x", 4, "node zz*: no such node"},
      {"admin node drain a", 2, "--reason: say why"},
      {"admin node down a", 2, "--reason: say why"},
      {"admin node resume", 2, "give the nodes to resume"},
      {"admin node resume a --reason x", 2, "takes no --reason"},
      {"admin node frobnicate a", 2, "unknown operation \"frobnicate\""},
      {"admin node", 2, "give an operation"},
      {"admin node drain 'a[1-' --reason x", 2, "NODES"},
      {"admin node drain a --reason " + std::string(300, 'r'), 4, "longer than 256"},
  };
  for (const Case& k : cases) {
    CmdResult e = c->Corral(k.args);
    EXPECT_EQ(e.code, k.code) << k.args << ": " << e.err;
    EXPECT_NE(e.err.find(k.says), std::string::npos) << k.args << ": " << e.err;
  }
  // Nothing of that changed a node; a pattern that names both drains both.
  EXPECT_TRUE(Node(*c, "a")["hold"].is_null());
  CmdResult r = c->Corral("admin node drain '?' --reason maintenance");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "node a: drained\nnode b: drained\n");
  EXPECT_EQ(c->Corral("admin node resume a,b").out, "node a: resumed\nnode b: resumed\n");
  EXPECT_EQ(c->Corral("admin node resume a").out, "nothing to resume\n");
}

}  // namespace
}  // namespace corral::testing
