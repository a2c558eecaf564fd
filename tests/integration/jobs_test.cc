// Jobs run to completion on a real local cluster, with their output and environment.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

TEST(Jobs, FiftyJobsRunToCompletion) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  std::string ids;
  for (int i = 0; i < 50; ++i) {
    int64_t id = SubmitOk(*c, "--wrap 'echo job " + std::to_string(i) + "' -o out-%j.txt");
    ASSERT_GT(id, 0);
    ids += " " + std::to_string(id);
  }
  CmdResult w = c->Corral("wait --timeout 120 -q" + ids);
  EXPECT_EQ(w.code, 0) << w.err;
  CmdResult a = c->Corral("acct --json");
  ASSERT_EQ(a.code, 0) << a.err;
  auto j = nlohmann::json::parse(a.out);
  ASSERT_EQ(j["jobs"].size(), 50u);
  for (const auto& rec : j["jobs"]) {
    EXPECT_EQ(rec["state"], "COMPLETED") << rec.dump();
    EXPECT_EQ(c->ReadFile("out-" + std::to_string(rec["job_id"].get<int64_t>()) + ".txt")
                  .rfind("job ", 0),
              0u);
  }
}

TEST(Jobs, OutputFilesHoldExactlyWhatTheJobPrinted) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  c->Shell(
      "printf '#!/bin/sh\\n#SBATCH -J exact\\nprintf \"line one\\\\nno newline\"\\n"
      "printf \"to stderr\\\\n\" >&2\\n' > exact.sh");
  int64_t id = SubmitOk(*c, "-o %x-%j.out -e %x-%j.err exact.sh");
  ASSERT_EQ(c->Corral("wait -q " + std::to_string(id)).code, 0);
  EXPECT_EQ(c->ReadFile("exact-" + std::to_string(id) + ".out"), "line one\nno newline");
  EXPECT_EQ(c->ReadFile("exact-" + std::to_string(id) + ".err"), "to stderr\n");
}

TEST(Jobs, EnvironmentNamesTheJobAndItsGpus) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  int64_t id = SubmitOk(*c,
                        "--gpus=h100:2 -n 2 -c 2 -o env.out --wrap 'echo $SLURM_JOB_ID "
                        "$CORRAL_JOB_ID $SLURM_NTASKS $SLURM_CPUS_PER_TASK $SLURM_JOB_NUM_NODES "
                        "$CUDA_VISIBLE_DEVICES $SLURM_JOB_NODELIST $SLURM_SUBMIT_DIR'");
  ASSERT_EQ(c->Corral("wait -q " + std::to_string(id)).code, 0);
  std::string want = std::to_string(id) + " " + std::to_string(id) + " 2 2 1 0,1 gpu1 " + c->dir();
  EXPECT_EQ(c->ReadFile("env.out"), want + "\n");
}

// Each node of a job gets its own TMPDIR (Open MPI keeps its session directories there), and it
// is gone once the job has ended on that node.
TEST(Jobs, EachNodeOfAJobHasAPrivateTmpdirRemovedAtTheEnd) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  int64_t id =
      SubmitOk(*c,
               "-N 2 -n 2 -o tmp.out --wrap 'touch \"$TMPDIR/mark\"; for h in $(cut -d\" \" -f1 "
               "\"$CORRAL_JOB_DIR/hostfile\"); do corral-rsh $h \"echo \\$TMPDIR\"; done'");
  ASSERT_EQ(c->Corral("wait -q " + std::to_string(id)).code, 0) << c->ReadFile("tmp.out");
  std::istringstream in(c->ReadFile("tmp.out"));
  std::vector<std::string> dirs;
  for (std::string line; std::getline(in, line);) dirs.push_back(line);
  ASSERT_EQ(dirs.size(), 2u) << c->ReadFile("tmp.out");
  EXPECT_NE(dirs[0], dirs[1]);
  for (const auto& d : dirs) {
    EXPECT_NE(d.find("/job-" + std::to_string(id)), std::string::npos) << d;
    EXPECT_TRUE(WaitFor([&] { return !std::filesystem::exists(d); }, 10000)) << d << " remains";
  }
}

TEST(Jobs, ImpossibleRequestIsRejectedAtSubmit) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult r = c->Corral("submit --gpus=h100:16 --wrap true");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("--gpus=h100:16: the largest node has 2 h100"), std::string::npos) << r.err;
  CmdResult q = c->Corral("queue --all --json");
  EXPECT_EQ(nlohmann::json::parse(q.out)["jobs"].size(), 0u);
}

TEST(Jobs, WaitExitsWithTheJobsExitCodeAndTimeLimitsHold) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  int64_t failing = SubmitOk(*c, "--wrap 'exit 7'");
  EXPECT_EQ(c->Corral("wait -q " + std::to_string(failing)).code, 7);
  int64_t slow = SubmitOk(*c, "-t 0:01 --wrap 'sleep 60'");
  CmdResult w = c->Corral("wait --json --timeout 30 " + std::to_string(slow));
  EXPECT_NE(w.code, 0);
  EXPECT_EQ(nlohmann::json::parse(w.out)["jobs"][0]["state"], "TIMEOUT") << w.out;
}

// --signal: SIG before the time limit, to every process of the job, or with B: to the batch
// script alone; a job that ends on it ends as it exits.
TEST(Jobs, SignalBeforeTheTimeLimitReachesTheJob) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  // The batch script starts a child; each writes its name to sig.$T when USR1 reaches it.
  c->Shell(
      "cat >sig.sh <<'EOF'\n"
      "#!/bin/sh\n"
      "sh -c 'trap \"echo child >>sig.$T; exit 0\" USR1; while :; do sleep 0.05; done' &\n"
      // The child traps in its own time (after its sleep): give it a second before stopping it.
      "trap 'echo batch >>sig.$T; for i in $(seq 20); do kill -0 $! 2>/dev/null || break; "
      "sleep 0.05; done; kill $! 2>/dev/null; wait; exit 0' USR1\n"
      "while :; do sleep 0.05; done\n"
      "EOF\n"
      "true");
  int64_t all = SubmitOk(*c, "-t 0:04 --signal=USR1@3 --export=ALL,T=all sig.sh");
  int64_t batch = SubmitOk(*c, "-t 0:04 --signal=B:USR1@3 --export=ALL,T=batch sig.sh");
  CmdResult w =
      c->Corral("wait -q --timeout 30 " + std::to_string(all) + " " + std::to_string(batch));
  EXPECT_EQ(w.code, 0) << w.err << c->Diagnose();
  std::string to_all = c->ReadFile("sig.all"), to_batch = c->ReadFile("sig.batch");
  EXPECT_NE(to_all.find("child"), std::string::npos) << to_all;
  EXPECT_NE(to_all.find("batch"), std::string::npos) << to_all;
  EXPECT_EQ(to_batch, "batch\n");
  CmdResult bad = c->Corral("submit --signal=NOPE --wrap true");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--signal"), std::string::npos) << bad.err;
}

TEST(Jobs, WaitingJobShowsItsReason) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  int64_t big = SubmitOk(*c, "--gpus=h100:2 --wrap 'sleep 30'");
  int64_t next = SubmitOk(*c, "--gpus=h100:1 --wrap true");
  bool shown = WaitFor(
      [&] {
        auto q = nlohmann::json::parse(c->Corral("queue --json").out);
        for (const auto& j : q["jobs"])
          if (j["job_id"] == next && j["state"] == "PENDING" && j["reason"] == "Resources")
            return true;
        return false;
      },
      10000);
  EXPECT_TRUE(shown);
  EXPECT_EQ(c->Corral("cancel " + std::to_string(big) + " " + std::to_string(next)).code, 0);
}

// The plain listing is served from a cache in corrald: every change must show in the next one.
TEST(Queue, PlainListingFollowsEveryChange) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  auto row_of = [&](int64_t id, const std::string& args = "") {
    std::istringstream in(c->Corral("queue " + args).out);
    std::string line, want = std::to_string(id) + " ";
    while (std::getline(in, line))
      if (line.rfind(want, 0) == 0) return line;
    return std::string();
  };
  int64_t a = SubmitOk(*c, "-H -J first --wrap 'sleep 30'");
  std::string row = row_of(a);
  EXPECT_NE(row.find(" first "), std::string::npos) << row;
  EXPECT_NE(row.find(" PD "), std::string::npos) << row;
  EXPECT_NE(row.find("(JobHeldUser)"), std::string::npos) << row;
  ASSERT_EQ(c->Corral("release " + std::to_string(a)).code, 0);
  EXPECT_TRUE(WaitFor([&] { return row_of(a).find(" R ") != std::string::npos; }, 10000))
      << row_of(a);
  int64_t b = SubmitOk(*c, "-H -J second --wrap true");
  EXPECT_NE(row_of(b).find(" second "), std::string::npos);
  EXPECT_NE(row_of(a).find(" R "), std::string::npos);
  ASSERT_EQ(c->Corral("cancel " + std::to_string(a) + " " + std::to_string(b)).code, 0);
  EXPECT_TRUE(WaitFor([&] { return row_of(a).empty() && row_of(b).empty(); }, 10000));
  // The filtered listings take the other path; finished jobs show with --all.
  EXPECT_NE(row_of(a, "--all").find(" CA "), std::string::npos) << row_of(a, "--all");
  EXPECT_NE(row_of(b, "-j " + std::to_string(b)).find(" CA "), std::string::npos);
  EXPECT_TRUE(row_of(a, "-u nobody-at-all").empty());
  CmdResult empty = c->Corral("queue");
  EXPECT_EQ(empty.code, 0);
  EXPECT_EQ(empty.out.rfind("JOBID", 0), 0u) << empty.out;
}

// The JSON listing is each job's full record, sent encoded as corrald keeps it, on every path.
TEST(Queue, JsonListingCarriesEachJobsFullRecord) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  int64_t a = SubmitOk(*c, "-H -J alpha -N 2 -n 2 -c 2 -o /tmp/a-%j.out -t 5 --wrap true");
  int64_t b = SubmitOk(*c, "-H -J beta -d afterok:" + std::to_string(a) + " --wrap true");
  auto jobs_of = [&](const std::string& args) {
    CmdResult r = c->Corral("queue --json " + args);
    EXPECT_EQ(r.code, 0) << r.err;
    std::map<int64_t, nlohmann::json> by_id;
    if (r.code != 0) return by_id;
    nlohmann::json parsed = nlohmann::json::parse(r.out);
    for (const auto& j : parsed["jobs"]) by_id[j["job_id"]] = j;
    return by_id;
  };
  auto all = jobs_of("");
  ASSERT_EQ(all.size(), 2u);
  const auto& ja = all[a];
  EXPECT_EQ(ja["name"], "alpha");
  EXPECT_EQ(ja["state"], "PENDING");
  EXPECT_EQ(ja["reason"], "JobHeldUser");
  EXPECT_EQ(ja["nodes"], 2);
  EXPECT_EQ(ja["cpus_per_task"], 2);
  EXPECT_EQ(ja["time_limit_ms"], 300000);
  EXPECT_EQ(ja["stdout"], "/tmp/a-" + std::to_string(a) + ".out");
  EXPECT_EQ(ja["hold"], true);
  EXPECT_EQ(all[b]["dependencies"][0], "afterok:" + std::to_string(a));
  // By id, by user, and with finished jobs.
  auto one = jobs_of("-j " + std::to_string(b));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one.begin()->second["name"], "beta");
  std::string user = all[a]["user"];
  EXPECT_EQ(jobs_of("-u " + user).size(), 2u);
  EXPECT_TRUE(jobs_of("-u nobody-at-all").empty());
  ASSERT_EQ(c->Corral("cancel " + std::to_string(a) + " " + std::to_string(b)).code, 0);
  EXPECT_TRUE(WaitFor([&] { return jobs_of("").empty(); }, 10000));
  auto done = jobs_of("--all");
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[a]["state"], "CANCELLED");
  EXPECT_EQ(done[a]["name"], "alpha");
}

}  // namespace
}  // namespace corral::testing

namespace corral::testing {
namespace {

TEST(SlurmShims, SbatchAndSqueueNamesWork) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  std::string shims = BinDir() + "/slurm-shims/";
  CmdResult s = c->Shell(shims + "sbatch --parsable -H --wrap true");
  ASSERT_EQ(s.code, 0) << s.err;
  std::string id = s.out.substr(0, s.out.find('\n'));
  CmdResult q = c->Shell(shims + "squeue");
  EXPECT_NE(q.out.find(id + " "), std::string::npos) << q.out;
  EXPECT_NE(q.out.find("(JobHeldUser)"), std::string::npos) << q.out;
  EXPECT_EQ(c->Shell(shims + "scancel " + id).code, 0);
  CmdResult r = c->Shell(shims + "srun -n 1 echo from-srun");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "from-srun\n");
}

}  // namespace
}  // namespace corral::testing
