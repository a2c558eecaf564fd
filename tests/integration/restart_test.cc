// After kill -9 of corrald and `corral up` again, every acknowledged job is still there.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <filesystem>
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
  auto submit = [&](const std::string& a) { return SubmitOk(*c, a); };
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

// A controller that stops cleanly tells each node why at once, rather than letting the streams
// time out; the nodes rejoin the next controller and their jobs carry on.
TEST(Restart, NodesAreToldWhenTheControllerStopsAndRejoinTheNextOne) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  int64_t running = SubmitOk(*c, "--gpus=h100:1 --wrap 'sleep 120'");
  ASSERT_TRUE(WaitFor([&] { return States(*c)[running] == "RUNNING"; }, 10000))
      << c->Corral("queue --all").out;
  // A `corral wait` open across the restart is told to ask again, and gets its answer from the
  // next controller.
  int64_t held = SubmitOk(*c, "-H --wrap true");
  c->Shell("(corral wait -q --timeout 120 " + std::to_string(held) +
           "; echo $? >wait.rc) >wait.log 2>&1 & true");
  pid_t p = atoi(c->ReadFile(c->dir() + "/cluster/corrald.pid").c_str());
  ASSERT_GT(p, 1);
  ASSERT_EQ(kill(p, SIGTERM), 0);
  EXPECT_TRUE(WaitFor([&] { return kill(p, 0) != 0; }, 10000)) << "corrald did not exit";
  std::vector<std::string> logs;
  for (const auto& e : std::filesystem::directory_iterator(c->dir() + "/cluster/log")) {
    if (e.path().filename().string().rfind("node-", 0) == 0) logs.push_back(e.path());
  }
  ASSERT_EQ(logs.size(), 3u);
  for (const auto& log : logs) {
    EXPECT_TRUE(WaitFor(
        [&] {
          return c->ReadFile(log).find("lost: corrald is shutting down") != std::string::npos;
        },
        5000))
        << log << ":\n"
        << c->ReadFile(log);
  }
  ASSERT_TRUE(c->Up());
  auto all_up = [&] {
    CmdResult r = c->Corral("nodes --json");
    if (r.code != 0) return false;
    nlohmann::json parsed = nlohmann::json::parse(r.out);
    int up = 0;
    for (const auto& n : parsed["nodes"]) up += n["state"] != "down" ? 1 : 0;
    return up == 3;
  };
  EXPECT_TRUE(WaitFor(all_up, 15000)) << c->Corral("nodes").out;
  EXPECT_EQ(States(*c)[running], "RUNNING");
  EXPECT_EQ(c->Corral("cancel " + std::to_string(running)).code, 0);
  EXPECT_FALSE(std::filesystem::exists(c->dir() + "/wait.rc")) << "corral wait gave up";
  EXPECT_EQ(c->Corral("release " + std::to_string(held)).code, 0);
  EXPECT_TRUE(WaitFor([&] { return c->ReadFile(c->dir() + "/wait.rc") == "0\n"; }, 30000))
      << "corral wait: " << c->ReadFile(c->dir() + "/wait.rc") << "\n"
      << c->ReadFile(c->dir() + "/wait.log");
}

int64_t PayloadRows(const LocalCluster& c) {
  sqlite3* db = nullptr;
  std::string path = c.dir() + "/cluster/state/corral.db";
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM payloads", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

// Jobs submitted one after another with the same script, environment and arguments share one
// stored payload; each still runs what it was given, also after kill -9 of the controller.
TEST(Restart, EqualSubmissionsShareAPayloadThatOutlivesARestart) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  auto submit = [&](const std::string& a) { return SubmitOk(*c, a); };
  int64_t a1 = submit("-o a1.out --wrap 'echo same'");
  int64_t a2 = submit("-H -o a2.out --wrap 'echo same'");  // options differ, payload does not
  int64_t b = submit("-o b.out --wrap 'echo other'");
  int64_t a3 = submit("-o a3.out --wrap 'echo same'");
  EXPECT_EQ(PayloadRows(*c), 3);  // a1 (and a2), b, a3
  ASSERT_EQ(c->Corral("wait -q " + std::to_string(a1) + " " + std::to_string(b) + " " +
                      std::to_string(a3))
                .code,
            0);
  c->KillController();
  ASSERT_TRUE(c->Up());
  int64_t a4 = submit("-o a4.out --wrap 'echo same'");
  EXPECT_EQ(PayloadRows(*c), 4);  // forgotten at restart: stored again
  ASSERT_EQ(c->Corral("release " + std::to_string(a2)).code, 0);
  ASSERT_EQ(c->Corral("wait -q " + std::to_string(a2) + " " + std::to_string(a4)).code, 0);
  for (const char* f : {"a1.out", "a2.out", "a3.out", "a4.out"}) {
    EXPECT_EQ(c->ReadFile(f), "same\n") << f;
  }
  EXPECT_EQ(c->ReadFile("b.out"), "other\n");
}

// `corral up` right after a kill -9 can find the dying corrald still there: once it is gone,
// `corral up` starts another instead of waiting out --wait for nodes that cannot register.
TEST(Restart, CorralUpReplacesAControllerThatDiesWhileItWaits) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  c->KillController();
  // In its place, a process that looks like corrald to `corral up` and answers nothing: the
  // dying controller. It goes once `corral up` is waiting.
  pid_t fake =
      atoi(c->Shell("bash -c 'exec -a corrald sleep 300' >/dev/null 2>&1 & echo $!").out.c_str());
  ASSERT_GT(fake, 1);
  ASSERT_TRUE(WaitFor(
      [&] {
        return c->ReadFile("/proc/" + std::to_string(fake) + "/cmdline").rfind("corrald", 0) == 0;
      },
      5000));
  c->Shell("echo " + std::to_string(fake) + " >" + c->dir() + "/cluster/corrald.pid");
  c->Shell("(corral up --dir " + c->dir() +
           "/cluster --wait 30 >up.out 2>&1; echo $? >up.rc) >/dev/null 2>&1 & true");
  ASSERT_TRUE(WaitFor(
      [&] { return c->ReadFile("up.out").find("already running") != std::string::npos; }, 10000))
      << c->ReadFile("up.out");
  ASSERT_EQ(kill(fake, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return c->ReadFile("up.rc") == "0\n"; }, 30000))
      << c->ReadFile("up.out");
  EXPECT_NE(c->ReadFile("up.out").find("has exited; starting another"), std::string::npos)
      << c->ReadFile("up.out");
  EXPECT_EQ(c->Corral("wait -q --timeout 30 " + std::to_string(SubmitOk(*c, "--wrap true"))).code,
            0);
}

// When nodes do not come up in time, `corral up` says which, and what each was doing.
TEST(Restart, CorralUpSaysWhatItWaitedFor) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  pid_t node = atoi(c->ReadFile(c->dir() + "/cluster/node-cpu1.pid").c_str());
  ASSERT_GT(node, 1);
  ASSERT_EQ(kill(node, SIGSTOP), 0);  // alive, but it cannot reconnect
  c->KillController();
  CmdResult r = c->Corral("up --dir " + c->dir() + "/cluster --wait 2");
  kill(node, SIGCONT);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("2 of 3 nodes up after 2 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cpu1 (not connected (down); its corral-node runs as pid " +
                       std::to_string(node) + ")"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(c->Up());
}

}  // namespace
}  // namespace corral::testing
