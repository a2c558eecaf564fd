// QOS and account limits (limits.h): the reason each limit gives, group limits counted up the
// account tree, and, over a random workload run step by step through Schedule, that no limit
// is ever exceeded.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <random>

#include "sched/core/schedule.h"
#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

JobSpec Job(const std::string& account, int cpus, int gpus = 0, const std::string& user = "u") {
  JobSpec s;
  s.ntasks = cpus;
  s.gpus = gpus;
  s.account = account;
  s.user = user;
  s.time_limit_ms = 60000;
  return s;
}

AccountLimits Account(const std::string& parent, int32_t jobs = -1, int64_t cpus = -1,
                      int64_t gpus = -1) {
  AccountLimits a;
  a.parent = parent;
  a.grp_jobs = jobs, a.grp_cpus = cpus, a.grp_gpus = gpus;
  return a;
}

TEST(AccountLimits, EachGroupLimitHasItsReasonAndCountsRunningJobs) {
  const std::map<std::string, Qos> no_qos;
  const std::map<std::string, AccountLimits> accounts = {
      {"jobs", Account("", 2)}, {"cpus", Account("", -1, 6)}, {"gpus", Account("", -1, -1, 4)}};
  LimitTracker t(no_qos, accounts);
  t.AddRunning(Job("jobs", 1));
  EXPECT_EQ(t.Admit(Job("jobs", 1)), "");
  EXPECT_EQ(t.Admit(Job("jobs", 1)), "AssocGrpJobsLimit");
  EXPECT_EQ(t.Admit(Job("cpus", 4)), "");
  EXPECT_EQ(t.Admit(Job("cpus", 4)), "AssocGrpCpuLimit");
  EXPECT_EQ(t.Admit(Job("cpus", 2)), "") << "6 CPUs in all are allowed";
  EXPECT_EQ(t.Admit(Job("gpus", 1, 3)), "");
  EXPECT_EQ(t.Admit(Job("gpus", 1, 2)), "AssocGrpGRES");
  EXPECT_EQ(t.Admit(Job("gpus", 1, 0)), "") << "a job without GPUs is not held by a GPU limit";
  EXPECT_EQ(t.Admit(Job("elsewhere", 64, 8)), "") << "an account not in the tree has no limit";
}

TEST(AccountLimits, AParentsLimitHoldsItsSubAccountsTogether) {
  const std::map<std::string, Qos> no_qos;
  const std::map<std::string, AccountLimits> accounts = {{"science", Account("", -1, -1, 4)},
                                                         {"physics", Account("science")},
                                                         {"chemistry", Account("science", 5)}};
  LimitTracker t(no_qos, accounts);
  EXPECT_EQ(t.Admit(Job("physics", 1, 2)), "");
  EXPECT_EQ(t.Admit(Job("chemistry", 1, 2)), "");
  EXPECT_EQ(t.Admit(Job("physics", 1, 1)), "AssocGrpGRES") << "science holds 4 GPUs already";
  EXPECT_EQ(t.Admit(Job("science", 1, 1)), "AssocGrpGRES");
}

TEST(AccountLimits, ACycleEndsTheWalk) {
  const std::map<std::string, Qos> no_qos;
  const std::map<std::string, AccountLimits> accounts = {{"a", Account("b", 1)},
                                                         {"b", Account("a")}};
  LimitTracker t(no_qos, accounts);
  EXPECT_EQ(t.Admit(Job("a", 1)), "");
  EXPECT_EQ(t.Admit(Job("b", 1)), "AssocGrpJobsLimit");
}

TEST(QosLimits, QosReasonsComeBeforeTheAccounts) {
  Qos normal;
  normal.name = kDefaultQos;
  normal.max_jobs_per_user = 1;
  const std::map<std::string, Qos> qos = {{kDefaultQos, normal}};
  const std::map<std::string, AccountLimits> accounts = {{"a", Account("", 1)}};
  LimitTracker t(qos, accounts);
  EXPECT_EQ(t.Admit(Job("a", 1)), "");
  EXPECT_EQ(t.Admit(Job("a", 1)), "QOSMaxJobsPerUserLimit");
  EXPECT_EQ(t.Admit(Job("a", 1, 0, "v")), "AssocGrpJobsLimit");
  JobSpec other = Job("a", 1);
  other.qos = "gone";
  EXPECT_EQ(t.Admit(other), "InvalidQOS");
}

// A random workload, pass after pass, with jobs ending between them: what runs never exceeds
// any account's group limits (counted up the tree) nor the QOS's per-user job limit.
TEST(Limits, HoldAtEveryStepOfARandomWorkload) {
  std::mt19937 rng(7);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  SchedulerState st;
  st.now = 1000;
  for (int i = 0; i < 6; ++i) {
    NodeProfile p;
    p.name = "n" + std::to_string(i);
    p.cpus = 16;
    p.mem_mib = 1 << 16;
    for (int g = 0; g < 4; ++g) p.gpus.push_back({g, "h100", 81920, 0, ""});
    st.nodes.push_back(NodeView::Idle(p));
  }
  st.accounts = {{"root_a", Account("", -1, 20, 6)},
                 {"a1", Account("root_a", 3)},
                 {"a2", Account("root_a", -1, -1, 2)},
                 {"b", Account("", 4, -1, -1)}};
  Qos normal;
  normal.name = kDefaultQos;
  normal.max_jobs_per_user = 5;
  st.qos = {{kDefaultQos, normal}};
  const std::vector<std::string> accounts = {"root_a", "a1", "a2", "b"};
  std::deque<JobSpec> specs;
  JobId next = 1;
  for (int i = 0; i < 300; ++i) {
    specs.push_back(Job(accounts[pick(0, 3)], pick(1, 6), pick(0, 2) ? 0 : pick(1, 3),
                        "u" + std::to_string(pick(0, 3))));
    WaitingJob w;
    w.id = next++;
    w.spec = &specs.back();
    w.priority.eligible_ms = st.now;
    st.pending.push_back(w);
  }
  size_t started = 0;
  for (int step = 0; step < 60 && !st.pending.empty(); ++step) {
    Decisions d = Schedule(st, SchedulerConfig{});
    std::map<JobId, const JobSpec*> by_id;
    for (const WaitingJob& w : st.pending) by_id[w.id] = w.spec;
    for (const StartDecision& s : d.starts) {
      ASSERT_TRUE(Reserve(s.alloc, &st.nodes));
      RunningJob r;
      r.id = s.id;
      r.alloc = s.alloc;
      r.spec = by_id.at(s.id);
      r.expected_end = st.now + 60000;
      st.running.push_back(r);
      std::erase_if(st.pending, [&](const WaitingJob& w) { return w.id == s.id; });
      ++started;
    }
    // The limits, over what runs now.
    std::map<std::string, std::array<int64_t, 3>> use;  // jobs, cpus, gpus per account
    std::map<std::string, int> per_user;
    for (const RunningJob& r : st.running) {
      per_user[r.spec->user]++;
      for (std::string a = r.spec->account; !a.empty(); a = st.accounts.at(a).parent) {
        use[a][0]++, use[a][1] += r.spec->TotalCpus(), use[a][2] += r.spec->TotalGpus();
      }
    }
    for (const auto& [name, u] : use) {
      const AccountLimits& l = st.accounts.at(name);
      EXPECT_LE(u[0], l.grp_jobs < 0 ? INT64_MAX : l.grp_jobs) << name << " step " << step;
      EXPECT_LE(u[1], l.grp_cpus < 0 ? INT64_MAX : l.grp_cpus) << name << " step " << step;
      EXPECT_LE(u[2], l.grp_gpus < 0 ? INT64_MAX : l.grp_gpus) << name << " step " << step;
    }
    for (const auto& [user, n] : per_user) EXPECT_LE(n, 5) << user;
    // Some end.
    st.now += 1000;
    std::vector<RunningJob> still;
    for (const RunningJob& r : st.running) {
      if (pick(0, 2) == 0) {
        Unreserve(r.alloc, &st.nodes);
      } else {
        still.push_back(r);
      }
    }
    st.running = std::move(still);
  }
  EXPECT_GT(started, 100u) << "the workload ran";
}

}  // namespace
}  // namespace corral::sched
