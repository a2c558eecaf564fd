// Compact arrays on a real local cluster: an array is one stored row until its tasks start;
// its pending tasks are one line of `corral queue` (ID_[INDICES]) or, with -r, one each; the
// rest is cancelled, released, waited on and depended on as a whole, and survives kill -9.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

// COUNT(*) of `table` in the controller's state database (-1 if it cannot be read).
int64_t Rows(const LocalCluster& c, const std::string& table) {
  sqlite3* db = nullptr;
  std::string path = c.dir() + "/cluster/state/corral.db";
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    std::string sql = "SELECT COUNT(*) FROM " + table;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

nlohmann::json Jobs(const LocalCluster& c, const std::string& args) {
  CmdResult q = c.Corral("queue --json " + args);
  EXPECT_EQ(q.code, 0) << q.err;
  nlohmann::json j = nlohmann::json::parse(q.out, nullptr, false);
  return j.is_discarded() ? nlohmann::json::array() : j["jobs"];
}

size_t AcctRows(const LocalCluster& c, int64_t first, int64_t last) {
  CmdResult a = c.Corral("acct --json");
  EXPECT_EQ(a.code, 0) << a.err;
  size_t n = 0;
  const nlohmann::json all = nlohmann::json::parse(a.out);
  for (const auto& r : all["jobs"]) {
    int64_t id = r["job_id"].get<int64_t>();
    n += id >= first && id <= last ? 1 : 0;
  }
  return n;
}

TEST(CompactArrays, AHeldArrayIsOneRowAndOneLineUntilItsTasksAreNamed) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  const int64_t first = SubmitOk(*c, "-H -J sweep --array=0-19999%2 --wrap true");
  const int64_t last = first + 19999;
  EXPECT_EQ(Rows(*c, "arrays"), 1);
  EXPECT_EQ(Rows(*c, "jobs"), 0) << "no task has a job record of its own yet";

  CmdResult q = c->Corral("queue");
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_NE(q.out.find(std::to_string(first) + "_[0-19999%2]"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find("(JobHeldUser)"), std::string::npos) << q.out;
  EXPECT_EQ(std::count(q.out.begin(), q.out.end(), '\n'), 2) << "a header and one line";
  nlohmann::json one = Jobs(*c, "");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["array_tasks"], "0-19999%2");
  EXPECT_EQ(one[0]["job_id"], first);
  EXPECT_EQ(Jobs(*c, "-r").size(), 20000u);

  // A task named alone is shown as itself: its id, index and output path.
  nlohmann::json t = Jobs(*c, "-j " + std::to_string(first + 77));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["job_id"], first + 77);
  EXPECT_EQ(t[0]["array_task_id"], 77);
  EXPECT_EQ(t[0]["state"], "PENDING");
  EXPECT_EQ(t[0]["reason"], "JobHeldUser");
  EXPECT_FALSE(t[0].contains("array_tasks"));
  EXPECT_NE(t[0]["stdout"].get<std::string>().find("corral-" + std::to_string(first + 77)),
            std::string::npos)
      << t[0].dump();

  // Cancelling one task gives it a record of its own; the rest is still one line.
  ASSERT_EQ(c->Corral("cancel " + std::to_string(first + 5)).code, 0);
  EXPECT_EQ(Rows(*c, "jobs"), 1);
  one = Jobs(*c, "");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["array_tasks"], "0-4,6-19999%2");
  EXPECT_EQ(Jobs(*c, "-a -j " + std::to_string(first + 5))[0]["state"], "CANCELLED");
  // Requeueing a pending task is refused without giving it a record.
  CmdResult rq = c->Corral("requeue " + std::to_string(first + 9));
  EXPECT_NE(rq.code, 0);
  EXPECT_NE(rq.err.find("PENDING"), std::string::npos) << rq.err;
  EXPECT_EQ(Rows(*c, "jobs"), 1);

  // The whole array, cancelled: every task CANCELLED, one accounting row each, exactly once
  // across a kill -9 of the controller.
  CmdResult cancel = c->Corral("cancel " + std::to_string(first));
  ASSERT_EQ(cancel.code, 0) << cancel.err;
  EXPECT_EQ(Rows(*c, "jobs"), 1);
  EXPECT_TRUE(Jobs(*c, "").empty());
  EXPECT_EQ(c->Corral("wait -q --timeout 30 " + std::to_string(first)).code, 1);
  EXPECT_TRUE(WaitFor([&] { return AcctRows(*c, first, last) == 20000u; }, 30000))
      << AcctRows(*c, first, last);
  c->KillController();
  ASSERT_TRUE(c->Up());
  EXPECT_EQ(Jobs(*c, "-a -j " + std::to_string(first + 12345))[0]["state"], "CANCELLED");
  EXPECT_EQ(Jobs(*c, "-a -r").size(), 20000u);
  EXPECT_EQ(AcctRows(*c, first, last), 20000u);
  // Ids go on after the array's.
  EXPECT_GT(SubmitOk(*c, "-H --wrap true"), last);
}

TEST(CompactArrays, TasksStartFromTheRestEachOnceAcrossKillNine) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  const int64_t first = SubmitOk(
      *c, "--array=1-8%2 -o c-%a.out --wrap 'echo $SLURM_ARRAY_TASK_ID >> runs.txt; sleep 0.4'");
  auto done = [&] {
    int n = 0;
    const nlohmann::json all = Jobs(*c, "-a -r -j " + std::to_string(first));
    for (const auto& j : all) n += j["state"] == "COMPLETED" ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return done() >= 2; }, 30000)) << c->Corral("queue -a").out;
  EXPECT_LE(Rows(*c, "jobs"), 5) << "tasks get records as they start, not before";
  c->KillController();
  ASSERT_TRUE(c->Up());
  ASSERT_EQ(c->Corral("wait -q --timeout 60 " + std::to_string(first)).code, 0) << c->Diagnose();
  std::istringstream in(c->ReadFile("runs.txt"));
  std::vector<int> ran;
  for (int i; in >> i;) ran.push_back(i);
  std::sort(ran.begin(), ran.end());
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8})) << "each task once";
  EXPECT_EQ(Rows(*c, "jobs"), 8);
  EXPECT_TRUE(WaitFor([&] { return AcctRows(*c, first, first + 7) == 8u; }, 10000));
}

TEST(CompactArrays, ReleasingTheRestRunsItAndItsDependentsFollow) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  const int64_t arr = SubmitOk(*c, "-H --array=1-3 -o p-%a.txt --wrap 'echo $SLURM_ARRAY_TASK_ID'");
  const int64_t merge = SubmitOk(
      *c, "-d afterok:" + std::to_string(arr) + " -o m.txt --wrap 'cat p-1.txt p-2.txt p-3.txt'");
  nlohmann::json m = Jobs(*c, "-j " + std::to_string(merge));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["reason"], "Dependency");
  // A dependency on one pending task of the array is accepted.
  const int64_t one = SubmitOk(*c, "-d afterany:" + std::to_string(arr + 2) + " --wrap true");
  ASSERT_EQ(c->Corral("release " + std::to_string(arr)).code, 0);
  ASSERT_EQ(
      c->Corral("wait -q --timeout 60 " + std::to_string(merge) + " " + std::to_string(one)).code,
      0)
      << c->Diagnose();
  EXPECT_EQ(c->ReadFile("m.txt"), "1\n2\n3\n");
  // Hostile: an id past every job's.
  CmdResult past = c->Corral("cancel " + std::to_string(one + 1000));
  EXPECT_NE(past.code, 0);
  EXPECT_NE(past.err.find("no such job"), std::string::npos) << past.err;
}

}  // namespace
}  // namespace corral::testing
