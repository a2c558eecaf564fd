// A job's outcome survives restarts, with real processes: of corrald (kill -9, again and again,
// while jobs are submitted and run), and of corral-node between a job's end and the
// controller's acknowledgement of it. A job whose node really lost it is requeued, or ends
// NODE_FAIL with --no-requeue.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

nlohmann::json Jobs(const LocalCluster& c, const std::string& args) {
  CmdResult r = c.Corral(args);
  if (r.code != 0) return nlohmann::json::array();
  return nlohmann::json::parse(r.out)["jobs"];
}

nlohmann::json Job(const LocalCluster& c, int64_t id) {
  nlohmann::json jobs = Jobs(c, "queue --json -a -j " + std::to_string(id));
  return jobs.empty() ? nlohmann::json() : jobs[0];
}

bool StateIs(const LocalCluster& c, int64_t id, const std::string& st) {
  nlohmann::json j = Job(c, id);
  return !j.is_null() && j["state"] == st;
}

// The ids in a file of `submit --parsable` output (one per line; other lines are not ids).
std::vector<int64_t> Ids(const std::string& text) {
  std::vector<int64_t> ids;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos)
      ids.push_back(std::stoll(line));
  }
  return ids;
}

// The storm of issue 17, bounded: loops of `corral submit --wrap true` while corrald is killed
// with -9 and started again, over and over. Every acknowledged job ends COMPLETED with exit 0,
// and its accounting row says so, once.
TEST(Outcome, EveryAcknowledgedJobCompletesThroughAStormOfControllerKills) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  constexpr int kLoops = 4, kKills = 15;
  for (int i = 0; i < kLoops; ++i) {
    // A submission that fails (corrald down) is not acknowledged: it prints no id. The loops
    // run until the storm is over (a bound on attempts keeps a broken run finite).
    c->Shell(
        "(n=0; while [ ! -e stop ] && [ $n -lt 20000 ]; do corral submit --parsable --wrap "
        "true 2>/dev/null; n=$((n+1)); done >ids." +
        std::to_string(i) + "; touch loop." + std::to_string(i) + ".done) >/dev/null 2>&1 & true");
  }
  auto acknowledged = [&] {
    std::vector<int64_t> all;
    for (int i = 0; i < kLoops; ++i) {
      auto ids = Ids(c->ReadFile("ids." + std::to_string(i)));
      all.insert(all.end(), ids.begin(), ids.end());
    }
    return all;
  };
  auto loops_done = [&] {
    for (int i = 0; i < kLoops; ++i)
      if (!std::filesystem::exists(c->dir() + "/loop." + std::to_string(i) + ".done")) return false;
    return true;
  };
  for (int k = 0; k < kKills; ++k) {
    // Kill once the loops have got some jobs in since the last restart.
    size_t before = acknowledged().size();
    ASSERT_TRUE(WaitFor([&] { return acknowledged().size() >= before + 15; }, 60000))
        << "no submissions got through after restart " << k << "\n"
        << c->Diagnose();
    c->KillController();
    ASSERT_TRUE(c->Up()) << "restart " << k + 1 << "\n" << c->Diagnose();
  }
  c->Shell("touch stop");
  ASSERT_TRUE(WaitFor(loops_done, 60000)) << c->Diagnose();
  std::vector<int64_t> ids = acknowledged();
  ASSERT_GE(ids.size(), kKills * 15u);
  ASSERT_TRUE(WaitFor([&] { return Jobs(*c, "queue --json").empty(); }, 120000)) << c->Diagnose();

  std::map<int64_t, nlohmann::json> state;
  for (const auto& j : Jobs(*c, "queue --json -a")) state[j["job_id"].get<int64_t>()] = j;
  std::map<int64_t, int> rows;
  std::map<int64_t, nlohmann::json> row;
  for (const auto& r : Jobs(*c, "acct --json")) {
    int64_t id = r["job_id"].get<int64_t>();
    rows[id]++;
    row[id] = r;
  }
  int bad = 0;
  for (int64_t id : ids) {
    const nlohmann::json& j = state[id];
    if (j.is_null() || j["state"] != "COMPLETED" || j["exit_code"] != 0 || rows[id] != 1 ||
        row[id]["state"] != "COMPLETED" || row[id]["exit_code"] != 0) {
      if (++bad <= 10) {
        ADD_FAILURE() << "job " << id << ": " << j.dump() << "; " << rows[id]
                      << " accounting row(s): " << row[id].dump();
      }
    }
  }
  EXPECT_EQ(bad, 0) << "of " << ids.size() << " acknowledged jobs";
  // And each ran once: no launch was taken twice.
  std::map<int64_t, int> starts;
  for (const auto& e : std::filesystem::directory_iterator(c->dir() + "/cluster/log")) {
    std::istringstream log(c->ReadFile(e.path().string()));
    for (std::string line; std::getline(log, line);) {
      size_t p = line.find("] job ");
      if (p == std::string::npos || line.find(": started pid") == std::string::npos) continue;
      starts[std::stoll(line.substr(p + 6))]++;
    }
  }
  int twice = 0;
  for (int64_t id : ids) {
    if (starts[id] != 1 && ++twice <= 10)
      ADD_FAILURE() << "job " << id << " started " << starts[id] << " times";
  }
  EXPECT_EQ(twice, 0);
  std::cout << "storm: " << kKills << " kills of corrald, " << ids.size()
            << " acknowledged jobs, all COMPLETED once\n";
}

// The node that ran the job is killed after the job ended but before corrald had that end
// (corrald is down meanwhile, so it cannot acknowledge it). The restarted corral-node finds the
// end in its journal and reports it.
TEST(Outcome, AnEndTheNodeWroteDownSurvivesARestartOfTheNode) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  int64_t id = SubmitOk(*c, "-o out.txt --wrap 'while [ ! -e go ]; do sleep 0.05; done; echo ran'");
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, id, "RUNNING"); }, 15000)) << c->Diagnose();
  std::string node = Job(*c, id)["nodelist"];
  std::string log = c->dir() + "/cluster/log/node-" + node + ".log";
  c->KillController();
  c->Shell("touch go");
  std::string ended = "job " + std::to_string(id) + ": COMPLETED";
  ASSERT_TRUE(WaitFor([&] { return c->ReadFile(log).find(ended) != std::string::npos; }, 15000))
      << c->ReadFile(log);
  c->KillNode(node);
  ASSERT_TRUE(c->Up()) << c->Diagnose();
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, id, "COMPLETED"); }, 15000))
      << Job(*c, id).dump() << "\n"
      << c->Diagnose();
  EXPECT_EQ(Job(*c, id)["exit_code"], 0);
  EXPECT_EQ(c->ReadFile("out.txt"), "ran\n");
  nlohmann::json rows = Jobs(*c, "acct --json -j " + std::to_string(id));
  ASSERT_EQ(rows.size(), 1u) << rows.dump();
  EXPECT_EQ(rows[0]["state"], "COMPLETED");
  EXPECT_NE(c->ReadFile(log).find("before this agent started; reporting it"), std::string::npos);
}

// corral-node is killed while a job runs: its restart kills what is left of the job and says
// the job is lost. A job that allows it (the default) runs again; one with --no-requeue ends
// NODE_FAIL, saying why.
TEST(Outcome, AJobLostByARestartOfItsNodeIsRequeuedOrEndsNodeFail) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  // Both on the GPU node, the only one with GPUs.
  int64_t again = SubmitOk(*c,
                           "--gpus 1 -o again.txt --wrap 'if [ -e first ]; then echo second; else "
                           "touch first; sleep 317; fi'");
  int64_t once = SubmitOk(*c, "--gpus 1 --no-requeue --wrap 'touch once.ran; sleep 317'");
  ASSERT_TRUE(WaitFor(
      [&] {
        return StateIs(*c, again, "RUNNING") && StateIs(*c, once, "RUNNING") &&
               std::filesystem::exists(c->dir() + "/first") &&
               std::filesystem::exists(c->dir() + "/once.ran");
      },
      15000))
      << c->Diagnose();
  c->KillNode("gpu1");
  ASSERT_TRUE(c->Up()) << c->Diagnose();
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, once, "NODE_FAIL"); }, 15000))
      << Job(*c, once).dump();
  EXPECT_EQ(Job(*c, once)["reason"], "corral-node on gpu1 restarted while the job ran");
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, again, "COMPLETED"); }, 30000))
      << Job(*c, again).dump() << "\n"
      << c->Diagnose();
  EXPECT_EQ(Job(*c, again)["restarts"], 1);
  EXPECT_EQ(c->ReadFile("again.txt"), "second\n");
  // The first runs' processes went with the restart.
  CmdResult left = c->Shell("pgrep -f 'slee[p] 317' | wc -l");
  EXPECT_EQ(left.out, "0\n") << c->Shell("ps -ef | grep 'slee[p] 317'").out;
}

// A step (here `corral run`'s task) outlives a restart of corrald: its client follows it on the
// next controller and gets what it wrote meanwhile and its exit code. Once after kill -9, once
// after a clean stop (SIGTERM), which ends the Exec streams without killing their steps.
TEST(Outcome, AStepIsFollowedAcrossARestartOfTheController) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  for (int sig : {SIGKILL, SIGTERM}) {
    std::string tag = sig == SIGKILL ? "kill" : "term";
    c->Shell("(corral run -n 1 sh -c 'echo before; while [ ! -e go." + tag +
             " ]; do sleep 0.05; done; echo after; exit 7' >run." + tag + ".out 2>run." + tag +
             ".err; echo $? >run." + tag + ".rc) >/dev/null 2>&1 & true");
    ASSERT_TRUE(WaitFor([&] { return c->ReadFile("run." + tag + ".out") == "before\n"; }, 15000))
        << c->ReadFile("run." + tag + ".err") << c->Diagnose();
    pid_t p = atoi(c->ReadFile(c->dir() + "/cluster/corrald.pid").c_str());
    ASSERT_GT(p, 1);
    ASSERT_EQ(kill(p, sig), 0);
    ASSERT_TRUE(WaitFor([&] { return kill(p, 0) != 0; }, 10000));
    c->Shell("touch go." + tag);  // the step ends while no controller runs
    ASSERT_TRUE(c->Up()) << c->Diagnose();
    ASSERT_TRUE(WaitFor([&] { return !c->ReadFile("run." + tag + ".rc").empty(); }, 30000))
        << c->ReadFile("run." + tag + ".err") << c->Diagnose();
    EXPECT_EQ(c->ReadFile("run." + tag + ".rc"), "7\n") << c->ReadFile("run." + tag + ".err");
    EXPECT_EQ(c->ReadFile("run." + tag + ".out"), "before\nafter\n")
        << c->ReadFile("run." + tag + ".err");
  }
}

// `corral requeue`: a running job is stopped and runs again from the start, once more in the
// queue; what cannot be requeued is refused, naming the job and why.
TEST(Outcome, ARequeuedJobRunsAgainFromTheStart) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  int64_t id = SubmitOk(*c,
                        "--wrap 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) >count; "
                        "[ $n -ge 1 ] || sleep 317'");
  ASSERT_TRUE(
      WaitFor([&] { return StateIs(*c, id, "RUNNING") && c->ReadFile("count") == "1\n"; }, 15000))
      << c->Diagnose();
  CmdResult r = c->Corral("requeue " + std::to_string(id));
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, id, "COMPLETED"); }, 30000)) << c->Diagnose();
  EXPECT_EQ(c->ReadFile("count"), "2\n");
  EXPECT_EQ(Job(*c, id)["restarts"], 1);
  EXPECT_EQ(Jobs(*c, "acct --json -j " + std::to_string(id)).size(), 1u);

  int64_t once = SubmitOk(*c, "--no-requeue --wrap 'sleep 317'");
  ASSERT_TRUE(WaitFor([&] { return StateIs(*c, once, "RUNNING"); }, 15000));
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const Case cases[] = {
      {"requeue " + std::to_string(id), 4, "is COMPLETED; only running jobs are requeued"},
      {"requeue " + std::to_string(once), 4, "was submitted with --no-requeue"},
      {"requeue 987654", 4, "job 987654: no such job"},
      {"requeue", 2, "give at least one job id"},
      {"requeue abc", 2, "not a positive integer"},
  };
  for (const Case& k : cases) {
    CmdResult e = c->Corral(k.args);
    EXPECT_EQ(e.code, k.code) << k.args << ": " << e.err;
    EXPECT_NE(e.err.find(k.says), std::string::npos) << k.args << ": " << e.err;
  }
  EXPECT_TRUE(StateIs(*c, once, "RUNNING"));
  EXPECT_EQ(c->Corral("cancel " + std::to_string(once)).code, 0);
}

}  // namespace
}  // namespace corral::testing
