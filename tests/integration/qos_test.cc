// QOS on a real cluster: a limit of one running job per user is never exceeded, the waiting
// jobs say why, the QOS survives a restart of corrald, and bad admin input changes nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

nlohmann::json QosList(const LocalCluster& c) {
  CmdResult r = c.Corral("admin qos list --json");
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out)["qos"] : nlohmann::json::array();
}

TEST(Qos, OneRunningJobPerUserIsNeverExceeded) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult add = c->Corral("admin qos add one --max-jobs-per-user 1 --priority 10");
  ASSERT_EQ(add.code, 0) << add.err;
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(SubmitOk(*c, "-q one --wrap 'sleep 0.5'"));
  int64_t other = SubmitOk(*c, "--wrap 'sleep 0.5'");  // QOS normal: not limited by "one"
  bool saw_reason = false;
  int most = 0;
  auto done = [&] {
    CmdResult q = c->Corral("queue --json -a");
    if (q.code != 0) return false;
    int running = 0, finished = 0;
    const nlohmann::json all = nlohmann::json::parse(q.out);
    for (const auto& j : all["jobs"]) {
      if (j["qos"] != "one") continue;
      if (j["state"] == "RUNNING") ++running;
      if (j["state"] == "COMPLETED") ++finished;
      if (j["reason"] == "QOSMaxJobsPerUserLimit") saw_reason = true;
    }
    most = std::max(most, running);
    return finished == 4;
  };
  ASSERT_TRUE(WaitFor(done, 60000)) << c->Diagnose();
  EXPECT_EQ(most, 1);
  EXPECT_TRUE(saw_reason);
  EXPECT_EQ(c->Corral("wait -q --timeout 30 " + std::to_string(other)).code, 0);

  // Persisted: a restarted corrald still applies it.
  c->KillController();
  ASSERT_TRUE(c->Up());
  nlohmann::json list = QosList(*c);
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_EQ(list[1]["name"], "one");
  EXPECT_EQ(list[1]["max_jobs_per_user"], 1);
  EXPECT_EQ(list[1]["priority"], 10);
  CmdResult m = c->Corral("admin qos modify one --max-jobs-per-user 2");
  EXPECT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(QosList(*c)[1]["max_jobs_per_user"], 2);
  EXPECT_EQ(QosList(*c)[1]["priority"], 10);  // what was not given stays
  CmdResult rm = c->Corral("admin qos remove one");
  EXPECT_EQ(rm.code, 0) << rm.err;
  EXPECT_EQ(QosList(*c).size(), 1u);
}

TEST(Qos, BadAdminInputIsRefusedAndChangesNothing) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  ASSERT_EQ(c->Corral("admin qos add gold --max-gpus-per-user 2").code, 0);
  const std::string before = QosList(*c).dump();
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const Case cases[] = {
      {"admin qos add gold", 4, "gold: exists already"},
      {"admin qos add 'bad name'", 4, "name: \"bad name\": only letters"},
      {"admin qos add x --max-jobs-per-user -7", 4, "max-jobs-per-user: must be -1"},
      {"admin qos add x --priority -1", 4, "priority: must be 0"},
      {"admin qos add x --max-wall nonsense", 2, "--max-wall nonsense"},
      {"admin qos modify ghost --priority 3", 4, "no QOS named ghost"},
      {"admin qos remove ghost", 4, "ghost: no such QOS"},
      {"admin qos remove normal", 4, "the default QOS"},
      {"admin qos explode gold", 4, "unknown operation \"explode\""},
      {"admin qos add", 2, "give one QOS name"},
      {"admin qos", 2, "give an operation"},
      {"admin widgets", 2, "unknown object"},
      {"submit -q nope --wrap true", 4, "--qos: no QOS named \"nope\" (defined: gold, normal)"},
  };
  for (const Case& k : cases) {
    CmdResult r = c->Corral(k.args);
    EXPECT_EQ(r.code, k.code) << k.args << ": " << r.err;
    EXPECT_NE(r.err.find(k.says), std::string::npos) << k.args << ": " << r.err;
  }
  EXPECT_EQ(QosList(*c).dump(), before);
  // A QOS that jobs use stays.
  int64_t held = SubmitOk(*c, "-H -q gold --wrap true");
  CmdResult rm = c->Corral("admin qos remove gold");
  EXPECT_EQ(rm.code, 4);
  EXPECT_NE(rm.err.find("1 pending or running job(s) use it (job " + std::to_string(held)),
            std::string::npos)
      << rm.err;
}

}  // namespace
}  // namespace corral::testing
