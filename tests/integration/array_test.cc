// Arrays, dependencies, holds and `corral run` on a real local cluster.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

TEST(Arrays, EveryTaskRunsWithItsIndexAndTheThrottleHolds) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult s = c->Corral(
      "submit --parsable --array=0-7%2 -o arr-%A_%a.out --wrap 'echo $SLURM_ARRAY_TASK_ID "
      "$SLURM_ARRAY_JOB_ID; date +%s%N > t-$SLURM_ARRAY_TASK_ID.start; sleep 0.3; date +%s%N > "
      "t-$SLURM_ARRAY_TASK_ID.end'");
  ASSERT_EQ(s.code, 0) << s.err;
  std::string first = FirstLine(s);
  CmdResult w = c->Corral("wait -q --timeout 60 " + first);
  ASSERT_EQ(w.code, 0) << w.err;
  std::vector<std::pair<long long, int>> events;  // (time, +1 start / -1 end)
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(c->ReadFile("arr-" + first + "_" + std::to_string(i) + ".out"),
              std::to_string(i) + " " + first + "\n");
    events.push_back({atoll(c->ReadFile("t-" + std::to_string(i) + ".start").c_str()), 1});
    events.push_back({atoll(c->ReadFile("t-" + std::to_string(i) + ".end").c_str()), -1});
  }
  std::sort(events.begin(), events.end());
  int running = 0, most = 0;
  for (const auto& [t, d] : events) most = std::max(most, running += d);
  EXPECT_LE(most, 2) << "%2 allows two tasks at once";
  EXPECT_EQ(nlohmann::json::parse(c->Corral("acct --json").out)["jobs"].size(), 8u);
}

TEST(Dependencies, AfterokWaitsForAWholeArrayAndFailureLeavesItPending) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  std::string arr = FirstLine(
      c->Corral("submit --parsable --array=1-4 -o part-%a.txt --wrap 'echo $SLURM_ARRAY_TASK_ID'"));
  std::string merge =
      FirstLine(c->Corral("submit --parsable -d afterok:" + arr +
                          " -o merged.txt --wrap 'cat part-1.txt part-2.txt part-3.txt "
                          "part-4.txt'"));
  ASSERT_EQ(c->Corral("wait -q --timeout 60 " + merge).code, 0);
  EXPECT_EQ(c->ReadFile("merged.txt"), "1\n2\n3\n4\n");

  std::string bad = FirstLine(c->Corral("submit --parsable --wrap 'exit 3'"));
  std::string after = FirstLine(c->Corral("submit --parsable -d afterok:" + bad + " --wrap true"));
  std::string cleanup =
      FirstLine(c->Corral("submit --parsable -d afternotok:" + bad + " --wrap true"));
  ASSERT_EQ(c->Corral("wait -q --timeout 60 " + cleanup).code, 0);
  // As in Slurm: a dependency that can never be met leaves the job pending, saying so.
  auto reason = [&] {
    CmdResult q = c->Corral("queue --json -j " + after);
    auto j = nlohmann::json::parse(q.out);
    return j["jobs"].empty() ? std::string("?")
                             : j["jobs"][0]["state"].get<std::string>() + " " +
                                   j["jobs"][0]["reason"].get<std::string>();
  };
  EXPECT_TRUE(WaitFor([&] { return reason() == "PENDING DependencyNeverSatisfied"; }, 10000))
      << reason();
  EXPECT_EQ(c->Corral("cancel " + after).code, 0);
  EXPECT_EQ(c->Corral("wait -q --timeout 30 " + after).code, 1);  // CANCELLED, exit code 0

  CmdResult unknown = c->Corral("submit -d afterok:99999 --wrap true");
  EXPECT_EQ(unknown.code, 4);
  EXPECT_NE(unknown.err.find("--dependency: job 99999 does not exist"), std::string::npos)
      << unknown.err;
}

// singleton waits for the earlier jobs of its name and user; '?' is any of; aftercorr pairs
// the tasks of two arrays by index.
TEST(Dependencies, SingletonAnyOfAndAftercorr) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  auto job = [&](const std::string& id) {
    CmdResult q = c->Corral("queue --json -a -j " + id);
    const nlohmann::json all = nlohmann::json::parse(q.out);
    return all["jobs"].empty() ? nlohmann::json() : all["jobs"][0];
  };
  std::string first = FirstLine(c->Corral("submit --parsable -J same --wrap 'sleep 1'"));
  std::string second = FirstLine(c->Corral("submit --parsable -J same -d singleton --wrap true"));
  std::string other = FirstLine(c->Corral("submit --parsable -J other -d singleton --wrap true"));
  ASSERT_EQ(c->Corral("wait -q --timeout 30 " + first + " " + second + " " + other).code, 0);
  EXPECT_GE(job(second)["start_ms"].get<int64_t>(), job(first)["end_ms"].get<int64_t>());
  EXPECT_LT(job(other)["start_ms"].get<int64_t>(), job(first)["end_ms"].get<int64_t>());

  std::string bad = FirstLine(c->Corral("submit --parsable --wrap 'exit 3'"));
  std::string good = FirstLine(c->Corral("submit --parsable --wrap true"));
  std::string either = FirstLine(
      c->Corral("submit --parsable -d afterok:" + bad + "?afterok:" + good + " --wrap true"));
  std::string neither = FirstLine(
      c->Corral("submit --parsable -d afterok:" + bad + "?afternotok:" + good + " --wrap true"));
  EXPECT_EQ(c->Corral("wait -q --timeout 30 " + either).code, 0);
  EXPECT_TRUE(WaitFor([&] { return job(neither)["reason"] == "DependencyNeverSatisfied"; }, 10000))
      << job(neither).dump();
  EXPECT_EQ(job(neither)["state"], "PENDING");

  std::string x =
      FirstLine(c->Corral("submit --parsable --array=1-3 --wrap 'sleep 0.$SLURM_ARRAY_TASK_ID; "
                          "echo x >x-$SLURM_ARRAY_TASK_ID'"));
  std::string y = FirstLine(c->Corral("submit --parsable --array=1-3 -d aftercorr:" + x +
                                      " --wrap 'cat x-$SLURM_ARRAY_TASK_ID'"));
  EXPECT_EQ(c->Corral("wait -q --timeout 30 " + y).code, 0) << c->Diagnose();
  CmdResult bad_dep = c->Corral("submit -d 'singleton:3' --wrap true");
  EXPECT_EQ(bad_dep.code, 2);
  EXPECT_NE(bad_dep.err.find("--dependency"), std::string::npos) << bad_dep.err;
}

TEST(Hold, HeldJobsWaitForRelease) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  std::string held =
      FirstLine(c->Corral("submit --parsable -H -o held.out --wrap 'echo released'"));
  auto q = nlohmann::json::parse(c->Corral("queue --json").out);
  ASSERT_EQ(q["jobs"].size(), 1u);
  EXPECT_EQ(q["jobs"][0]["reason"], "JobHeldUser");
  EXPECT_EQ(c->Corral("wait -q --timeout 1 " + held).code, 124);
  EXPECT_EQ(c->Corral("release " + held).code, 0);
  EXPECT_EQ(c->Corral("wait -q --timeout 30 " + held).code, 0);
  EXPECT_EQ(c->ReadFile("held.out"), "released\n");
  EXPECT_EQ(c->Corral("release " + held).code, 4);  // not held any more
}

TEST(Run, RunsOneTaskPerRankAcrossNodesAndPassesTheExitCode) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult r =
      c->Corral("run -N 2 -n 2 --label sh -c 'echo rank $SLURM_PROCID on $CORRAL_NODENAME'");
  ASSERT_EQ(r.code, 0) << r.err;
  std::set<std::string> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.insert(l);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_TRUE(lines.begin()->rfind("0: rank 0 on ", 0) == 0) << r.out;
  EXPECT_TRUE(std::next(lines.begin())->rfind("1: rank 1 on ", 0) == 0) << r.out;
  EXPECT_NE(lines.begin()->substr(13), std::next(lines.begin())->substr(13)) << "two nodes";

  CmdResult fail = c->Corral("run sh -c 'exit 5'");
  EXPECT_EQ(fail.code, 5);
  auto acct = nlohmann::json::parse(c->Corral("acct --json").out);
  ASSERT_EQ(acct["jobs"].size(), 2u);
  EXPECT_EQ(acct["jobs"][0]["state"], "COMPLETED");
  EXPECT_EQ(acct["jobs"][1]["state"], "FAILED");
  EXPECT_EQ(acct["jobs"][1]["exit_code"], 5);
}

// As srun: stdin goes to task 0 (or the task --input names, or a file), the others read EOF.
TEST(Run, ForwardsStdinToOneTask) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  const std::string run = BinDir() + "/corral run ";
  const std::string tasks = "-N 2 -n 2 --label sh -c 'cat; echo end $SLURM_PROCID'";
  CmdResult r = c->Shell("printf 'a\\nb\\n' | " + run + tasks + " | sort");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0: a\n0: b\n0: end 0\n1: end 1\n");
  r = c->Shell("printf 'x\\n' | " + run + "--input=1 " + tasks + " | sort");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0: end 0\n1: end 1\n1: x\n");
  r = c->Shell("printf 'x\\n' | " + run + "--input=none " + tasks + " | sort");
  EXPECT_EQ(r.out, "0: end 0\n1: end 1\n");
  c->Shell("printf 'from a file\\n' > in.txt");
  r = c->Shell(run + "-i in.txt cat </dev/null");
  EXPECT_EQ(r.out, "from a file\n") << r.err;

  // Bytes arrive whole through the flow control; a task that never reads ends all the same.
  r = c->Shell("head -c 3000000 /dev/urandom | tee big.in | " + run +
               "sh -c 'cat > big.out'"
               " && cmp big.in big.out && echo same");
  EXPECT_EQ(r.out, "same\n") << r.err;
  r = c->Shell("yes | " + run + "sh -c 'exit 3'");
  EXPECT_EQ(r.code, 3) << r.err;

  r = c->Corral("run -n 2 --input=2 true");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--input=2: there are tasks 0 to 1"), std::string::npos) << r.err;
  r = c->Corral("run --input=/no/such/file true");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--input=/no/such/file"), std::string::npos) << r.err;
  r = c->Corral("submit --input=in.txt --wrap true");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--input"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace corral::testing

namespace corral::testing {
namespace {

TEST(HetJob, ComponentsStartTogetherAndMpiSpansThem) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  {
    std::ofstream f(c->dir() + "/het.sh");
    f << "#!/bin/sh\n#CORRAL -J het\n#CORRAL -n 1 --gpus=h100:1\n#CORRAL hetjob\n"
         "#CORRAL -N 2 -n 2\n"
         "echo groups $SLURM_HET_SIZE $SLURM_JOB_NODELIST_HET_GROUP_0 "
         "$SLURM_JOB_NODELIST_HET_GROUP_1\n"
         "mpirun -np 1 --host $CORRAL_HET_HOSTS_0 sh -c 'echo learner $CORRAL_NODENAME "
         "$CUDA_VISIBLE_DEVICES' : -np 2 --host $CORRAL_HET_HOSTS_1 sh -c 'echo actor "
         "$CORRAL_NODENAME'\n";
  }
  CmdResult s = c->Corral("submit --parsable -o het.out het.sh");
  ASSERT_EQ(s.code, 0) << s.err;
  ASSERT_EQ(c->Corral("wait -q --timeout 60 " + FirstLine(s)).code, 0) << c->ReadFile("het.out");
  std::string out = c->ReadFile("het.out");
  EXPECT_NE(out.find("groups 2 gpu1 cpu[1-2]\n"), std::string::npos) << out;
  EXPECT_NE(out.find("learner gpu1 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("actor cpu1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("actor cpu2\n"), std::string::npos) << out;
}

TEST(HetJob, AnImpossibleComponentIsRejectedNamingIt) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  {
    std::ofstream f(c->dir() + "/bad.sh");
    f << "#!/bin/sh\n#CORRAL -n 1\n#CORRAL hetjob\n#CORRAL --gpus=h100:9\ntrue\n";
  }
  CmdResult s = c->Corral("submit bad.sh");
  EXPECT_EQ(s.code, 4);
  EXPECT_NE(s.err.find("hetjob component 1: --gpus=h100:9"), std::string::npos) << s.err;
}

}  // namespace
}  // namespace corral::testing

namespace corral::testing {
namespace {

TEST(Run, AllocationEndsWhenItsClientIsKilled) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  // The client runs in the background; its pid goes to a file.
  c->Shell("(" + BinDir() +
           "/corral run -J orphan sleep 377 >/dev/null 2>&1 & echo $! > client.pid)");
  pid_t client = atoi(c->ReadFile("client.pid").c_str());
  ASSERT_GT(client, 1);
  auto state = [&] {
    CmdResult q = c->Corral("queue --all --json");
    nlohmann::json j = nlohmann::json::parse(q.out, nullptr, false);
    if (j.is_discarded() || j["jobs"].empty()) return std::string();
    return j["jobs"][0]["state"].get<std::string>();
  };
  ASSERT_TRUE(WaitFor([&] { return state() == "RUNNING"; }, 15000));
  ASSERT_TRUE(
      WaitFor([&] { return c->Shell("pgrep -f 'slee[p] 377' >/dev/null").code == 0; }, 10000));
  kill(client, SIGKILL);
  EXPECT_TRUE(WaitFor([&] { return state() == "CANCELLED"; }, 15000)) << state();
  EXPECT_TRUE(
      WaitFor([&] { return c->Shell("pgrep -f 'slee[p] 377' >/dev/null").code != 0; }, 15000))
      << "the task outlived its allocation";
}

}  // namespace
}  // namespace corral::testing
