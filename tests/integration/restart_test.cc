// After kill -9 of corrald and `corral up` again, every acknowledged job is still there.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

std::map<int64_t, std::string> States(const LocalCluster& c) {
  CmdResult q = c.Corral("queue --all --json");
  EXPECT_EQ(q.code, 0) << q.err;
  std::map<int64_t, std::string> m;
  if (q.code != 0) return m;
  nlohmann::json parsed = nlohmann::json::parse(q.out);
  for (const auto& j : parsed["jobs"]) {
    m[j["job_id"].get<int64_t>()] = j["state"].get<std::string>();
  }
  return m;
}

TEST(Restart, JobsSurviveKillNineOfTheController) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  auto submit = [&](const std::string& a) {
    CmdResult r = c->Corral("submit --parsable " + a);
    EXPECT_EQ(r.code, 0) << r.err;
    return atoll(r.out.c_str());
  };
  int64_t done = submit("-o done.out --wrap 'echo hi'");
  ASSERT_EQ(c->Corral("wait -q " + std::to_string(done)).code, 0);
  int64_t running = submit("--gpus=h100:2 --wrap 'sleep 120'");
  int64_t pending = submit("--gpus=h100:2 --wrap 'echo later'");
  ASSERT_TRUE(WaitFor([&] { return States(*c)[running] == "RUNNING"; }, 10000))
      << c->Corral("queue --all").out;
  // Many submissions right before the crash: each acknowledged id must survive.
  std::vector<int64_t> burst;
  for (int i = 0; i < 20; ++i) burst.push_back(submit("--gpus=h100:1 --wrap true"));

  c->KillController();
  ASSERT_TRUE(c->Up());

  auto after = States(*c);
  EXPECT_EQ(after[done], "COMPLETED");
  EXPECT_EQ(after[running], "RUNNING");
  EXPECT_EQ(after[pending], "PENDING");
  for (int64_t id : burst) EXPECT_TRUE(after.count(id)) << id;
  // The running job's node reconnected and still reports it: cancel it and the queue moves.
  EXPECT_EQ(c->Corral("cancel " + std::to_string(running)).code, 0);
  EXPECT_EQ(c->Corral("wait -q --timeout 60 " + std::to_string(pending)).code, 0);
  CmdResult acct = c->Corral("acct --json -j " + std::to_string(done));
  EXPECT_EQ(nlohmann::json::parse(acct.out)["jobs"].size(), 1u) << acct.out;
}

}  // namespace
}  // namespace corral::testing
