// Backfill on a real cluster: a wide job waits for resources with a planned start while small,
// short jobs run around it, and that start is never pushed back; `corral queue --explain` shows
// why each job waits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

TEST(Backfill, SmallShortJobsRunAroundAWideJobWithoutPushingItsStartBack) {
  auto c = LocalCluster::Start();  // cpu1, cpu2 and gpu1: 8 CPUs each
  ASSERT_TRUE(c);
  // One CPU node busy for at most two minutes.
  int64_t busy = SubmitOk(*c, "-n 8 -t 2 --wrap 'sleep 300'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, busy) == "RUNNING"; }, 10000));
  // The wide job needs every CPU of the cluster: it waits for `busy`, with a planned start.
  int64_t wide = SubmitOk(*c, "-N 3 -n 24 -t 5 --wrap true");
  ASSERT_TRUE(
      WaitFor([&] { return QueueJob(*c, wide)["expected_start_ms"].get<int64_t>() > 0; }, 10000))
      << QueueJob(*c, wide).dump();
  const int64_t planned = QueueJob(*c, wide)["expected_start_ms"];
  const int64_t busy_end = QueueJob(*c, busy)["start_ms"].get<int64_t>() + 120000;
  EXPECT_EQ(planned, busy_end);
  EXPECT_EQ(QueueJob(*c, wide)["reason"], "Resources");
  // Short jobs that end before it fit around it now; a long one would delay it and waits.
  std::vector<int64_t> shorts;
  for (int i = 0; i < 4; ++i) shorts.push_back(SubmitOk(*c, "-n 2 -t 1 --wrap 'sleep 1'"));
  int64_t longer = SubmitOk(*c, "-n 2 -t 10 --wrap true");
  for (int64_t s : shorts) {
    EXPECT_TRUE(WaitFor([&] { return QueueState(*c, s) == "COMPLETED"; }, 20000))
        << QueueJob(*c, s).dump() << c->Diagnose();
    // While they run and end, the wide job's planned start stays where it was.
    EXPECT_EQ(QueueJob(*c, wide)["expected_start_ms"].get<int64_t>(), planned);
  }
  EXPECT_EQ(QueueState(*c, wide), "PENDING");
  EXPECT_EQ(QueueState(*c, longer), "PENDING");
  EXPECT_EQ(QueueJob(*c, longer)["reason"], "Priority");

  CmdResult ex = c->Corral("queue --explain " + std::to_string(wide));
  EXPECT_EQ(ex.code, 0) << ex.err;
  EXPECT_NE(ex.out.find("reason Resources"), std::string::npos) << ex.out;
  EXPECT_NE(ex.out.find("Place: 1 of 2 jobs eligible to start (easy backfill)"), std::string::npos)
      << ex.out;
  EXPECT_NE(ex.out.find("Expected start: "), std::string::npos) << ex.out;
  for (const char* f : {"age", "fairshare", "job_size", "partition", "qos", "gpu"}) {
    EXPECT_NE(ex.out.find(std::string("\n") + f + " "), std::string::npos) << f << "\n" << ex.out;
  }
  CmdResult js = c->Corral("queue --explain " + std::to_string(longer) + " --json");
  ASSERT_EQ(js.code, 0) << js.err;
  nlohmann::json e = nlohmann::json::parse(js.out);
  EXPECT_EQ(e["position"], 2);
  EXPECT_EQ(e["factors"].size(), 6u);
  EXPECT_EQ(e["job"]["reason"], "Priority");

  // Once the busy job ends, the wide one starts, then the long one.
  ASSERT_EQ(c->Corral("cancel " + std::to_string(busy)).code, 0);
  EXPECT_EQ(
      c->Corral("wait -q --timeout 60 " + std::to_string(wide) + " " + std::to_string(longer)).code,
      0)
      << c->Diagnose();
}

TEST(Backfill, ExplainAndNiceRefuseWhatIsNotThere) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult r = c->Corral("queue --explain 424242");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("job 424242: no such job"), std::string::npos) << r.err;
  r = c->Corral("queue --explain 0");
  EXPECT_EQ(r.code, 2) << r.err;
  r = c->Corral("queue --explain x");
  EXPECT_EQ(r.code, 2) << r.err;
  r = c->Corral("submit --nice=-5 --wrap true");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--nice"), std::string::npos) << r.err;
  r = c->Corral("submit --nice=20000000 --wrap true");
  EXPECT_EQ(r.code, 2) << r.err;
  int64_t niced = SubmitOk(*c, "-H --nice=50 --wrap true");
  CmdResult js = c->Corral("queue --explain " + std::to_string(niced) + " --json");
  ASSERT_EQ(js.code, 0) << js.err;
  nlohmann::json e = nlohmann::json::parse(js.out);
  EXPECT_EQ(e["nice"], 50);
  EXPECT_EQ(e["position"], 0);  // held: not eligible
}

}  // namespace
}  // namespace corral::testing
