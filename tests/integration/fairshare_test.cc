// Fair share on a real cluster: the account tree is managed with `corral admin account|user`,
// running jobs accrue usage that lowers their association's factor (`corral share`, and the
// fairshare factor in `corral queue --explain`), the tree and usage survive a restart of
// corrald, and hostile tree edits change nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

const char* const kCluster = R"(nodes:
  - name: cpu
    count: 2
    topology: "pack:1 numa:1(memory=16GB) core:8 pu:1"
scheduler:
  priority-weight-fairshare: 100000
  fairshare-half-life-hours: 24
  fairshare-store-seconds: 1
)";

// The size of the stored fair-share usage (0 when none is stored yet).
int64_t StoredUsageBytes(const LocalCluster& c) {
  sqlite3* db = nullptr;
  std::string path = c.dir() + "/cluster/state/corral.db";
  int64_t n = 0;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT length(spec) FROM admin WHERE kind = 'fairshare'", -1, &st,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

nlohmann::json ShareRows(const LocalCluster& c) {
  CmdResult r = c.Corral("share --all --json");
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out)["rows"] : nlohmann::json::array();
}

nlohmann::json Row(const nlohmann::json& rows, const std::string& account,
                   const std::string& user) {
  for (const auto& r : rows) {
    if (r["account"] == account && r["user"] == user) return r;
  }
  return {};
}

nlohmann::json Tree(const LocalCluster& c) {
  CmdResult r = c.Corral("admin account list --json");
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json{};
}

TEST(FairShare, UsageLowersTheFactorAndSurvivesARestart) {
  auto c = LocalCluster::Start(kCluster);
  ASSERT_TRUE(c);
  const std::string me = FirstLine(c->Shell("id -un"));
  const std::vector<std::string> setup = {
      "admin account add physics --shares 1", "admin account add bio --shares 1",
      "admin user add " + me + " --account physics", "admin user add " + me + " --account bio"};
  for (const std::string& cmd : setup) {
    CmdResult r = c->Corral(cmd);
    ASSERT_EQ(r.code, 0) << cmd << ": " << r.err;
  }
  // No usage yet: both associations tie at the top.
  nlohmann::json rows = ShareRows(*c);
  EXPECT_EQ(Row(rows, "physics", me)["fairshare"], 1.0) << rows.dump();
  EXPECT_EQ(Row(rows, "bio", me)["fairshare"], 1.0);

  // Without -A a job runs under the first account added; one naming an account the user is not
  // in is refused.
  int64_t id = SubmitOk(*c, "-n 8 --wrap 'sleep 2.5'");
  CmdResult bad = c->Corral("submit -A chemistry --wrap true");
  EXPECT_EQ(bad.code, 4);
  EXPECT_NE(bad.err.find("--account chemistry: user " + me + " is not in it"), std::string::npos)
      << bad.err;
  ASSERT_EQ(c->Corral("wait -q --timeout 60 " + std::to_string(id)).code, 0) << c->Diagnose();
  CmdResult q = c->Corral("queue --json -a -j " + std::to_string(id));
  ASSERT_EQ(q.code, 0);
  EXPECT_EQ(nlohmann::json::parse(q.out)["jobs"][0]["account"], "physics");

  // 8 CPUs for about 2.5 s: physics has usage, bio none, so bio ranks first.
  ASSERT_TRUE(WaitFor(
      [&] {
        rows = ShareRows(*c);
        return Row(rows, "physics", "")["usage"].get<double>() > 8.0;
      },
      10000))
      << rows.dump();
  EXPECT_EQ(Row(rows, "bio", "")["usage"], 0.0);
  EXPECT_EQ(Row(rows, "bio", me)["fairshare"], 1.0);
  EXPECT_EQ(Row(rows, "physics", me)["fairshare"], 0.5);
  // The factor reaches the job's priority.
  int64_t waiting = SubmitOk(*c, "-H -A physics --wrap true");
  CmdResult ex = c->Corral("queue --explain " + std::to_string(waiting) + " --json");
  ASSERT_EQ(ex.code, 0) << ex.err;
  const nlohmann::json explain = nlohmann::json::parse(ex.out);
  bool found = false;
  for (const auto& f : explain["factors"]) {
    if (f["name"] != "fairshare") continue;
    found = true;
    EXPECT_EQ(f["weight"], 100000);
    EXPECT_EQ(f["contribution"], 50000) << ex.out;
  }
  EXPECT_TRUE(found) << ex.out;

  // The tree and the usage survive a restart (stored every second here).
  const double before = Row(ShareRows(*c), "physics", "")["usage"].get<double>();
  ASSERT_TRUE(WaitFor([&] { return StoredUsageBytes(*c) > 20; }, 10000));
  c->KillController();
  ASSERT_TRUE(c->Up());
  nlohmann::json tree = Tree(*c);
  EXPECT_EQ(tree["accounts"].size(), 2u) << tree.dump();
  EXPECT_EQ(tree["users"].size(), 2u);
  rows = ShareRows(*c);
  EXPECT_GT(Row(rows, "physics", "")["usage"].get<double>(), 0.0) << rows.dump();
  EXPECT_LE(Row(rows, "physics", "")["usage"].get<double>(), before + 1e-6);
  EXPECT_EQ(Row(rows, "bio", me)["fairshare"], 1.0);
}

TEST(FairShare, HostileTreeEditsAreRefusedAndChangeNothing) {
  auto c = LocalCluster::Start(kCluster);
  ASSERT_TRUE(c);
  const std::string me = FirstLine(c->Shell("id -un"));
  ASSERT_EQ(c->Corral("admin account add science").code, 0);
  ASSERT_EQ(c->Corral("admin account add physics --parent science --shares 3").code, 0);
  ASSERT_EQ(c->Corral("admin user add " + me + " --account physics").code, 0);
  const std::string before = Tree(*c).dump();
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const Case cases[] = {
      {"admin account modify science --parent physics", 4, "parent cycle"},
      {"admin account modify science --parent science", 4, "cycle"},
      {"admin account add bio --shares -3", 4, "shares: must be 0 to 1000000000 (got -3)"},
      {"admin account add bio --parent nowhere", 4, "parent \"nowhere\": no such account"},
      {"admin account add physics", 4, "account physics: exists already"},
      {"admin account add 'bad name'", 4, "bad name"},
      {"admin account add root", 4, "root"},
      {"admin account remove science", 4, "has sub-account physics"},
      {"admin account remove physics", 4, "user " + me + " is in it"},
      {"admin account remove ghost", 4, "no such account"},
      {"admin user add " + me + " --account ghost", 4, "account \"ghost\": no such account"},
      {"admin user add " + me, 2, "give --account"},
      {"admin user modify nobody --account physics --shares 2", 4, "no such user"},
      {"admin account frob x", 2, "unknown operation \"frob\""},
  };
  for (const Case& k : cases) {
    CmdResult r = c->Corral(k.args);
    EXPECT_EQ(r.code, k.code) << k.args << ": " << r.err;
    EXPECT_NE(r.err.find(k.says), std::string::npos) << k.args << ": " << r.err;
  }
  EXPECT_EQ(Tree(*c).dump(), before);
  // A user with a job stays.
  int64_t held = SubmitOk(*c, "-H --wrap true");
  CmdResult rm = c->Corral("admin user remove " + me + " --account physics");
  EXPECT_EQ(rm.code, 4);
  EXPECT_NE(rm.err.find("job " + std::to_string(held)), std::string::npos) << rm.err;
}

// Group limits up the account tree: a parent's --grp-jobs holds its sub-accounts' jobs
// together; the job over it waits as AssocGrpJobsLimit and starts when room is made; the limit
// survives a restart; bad values are refused.
TEST(AccountLimits, AParentsGroupLimitHoldsBackItsSubAccountsJobs) {
  auto c = LocalCluster::Start(kCluster);
  ASSERT_TRUE(c);
  const std::string me = FirstLine(c->Shell("id -un"));
  for (const std::string& cmd : {std::string("admin account add lab --grp-jobs 1"),
                                 std::string("admin account add team --parent lab"),
                                 "admin user add " + me + " --account team"}) {
    CmdResult r = c->Corral(cmd);
    ASSERT_EQ(r.code, 0) << cmd << ": " << r.err;
  }
  nlohmann::json tree = Tree(*c);
  ASSERT_EQ(tree["accounts"].size(), 2u) << tree.dump();
  EXPECT_EQ(tree["accounts"][0]["grp_jobs"], 1) << tree.dump();
  EXPECT_EQ(tree["accounts"][1]["grp_jobs"], -1) << tree.dump();
  c->Shell("touch go");
  int64_t first = SubmitOk(*c, "-A team --wrap 'while [ -e go ]; do sleep 0.05; done'");
  int64_t second = SubmitOk(*c, "-A team --wrap true");
  auto job = [&](int64_t id) {
    CmdResult r = c->Corral("queue --json -a -j " + std::to_string(id));
    nlohmann::json all = r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json{};
    return all.is_object() && !all["jobs"].empty() ? all["jobs"][0] : nlohmann::json{};
  };
  ASSERT_TRUE(WaitFor([&] { return job(second)["reason"] == "AssocGrpJobsLimit"; }, 30000))
      << job(second).dump() << job(first).dump();
  EXPECT_EQ(job(first)["state"], "RUNNING");
  // Kept across a restart: the second job still waits for it.
  c->KillController();
  ASSERT_TRUE(c->Up());
  ASSERT_TRUE(WaitFor([&] { return job(second)["reason"] == "AssocGrpJobsLimit"; }, 30000))
      << job(second).dump();
  c->Shell("rm go");
  ASSERT_TRUE(WaitFor([&] { return job(second)["state"] == "COMPLETED"; }, 30000))
      << job(second).dump();
  for (const std::string& bad : {std::string("admin account modify lab --grp-jobs -5"),
                                 std::string("admin account modify lab --grp-cpus x"),
                                 "admin user modify " + me + " --account team --grp-jobs 1"}) {
    CmdResult r = c->Corral(bad);
    EXPECT_NE(r.code, 0) << bad;
  }
  EXPECT_EQ(Tree(*c)["accounts"][0]["grp_jobs"], 1);
  CmdResult lift = c->Corral("admin account modify lab --grp-jobs -1");
  ASSERT_EQ(lift.code, 0) << lift.err;
  EXPECT_EQ(Tree(*c)["accounts"][0]["grp_jobs"], -1);
}

}  // namespace
}  // namespace corral::testing
