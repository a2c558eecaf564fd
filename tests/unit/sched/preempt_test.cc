// Preemption (preempt.h), through the pass (schedule.h): who may preempt whom, the exact victims
// chosen, and properties on random workloads (victims free what the preemptor needs, no victim
// is spare, no job is preempted twice).
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>
#include <set>

#include "sched/core/schedule.h"
#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

using testing::CpuNode;

Partition Part(const std::string& name, int32_t tier, PreemptMode mode, TimeMs grace = 0) {
  Partition p;
  p.name = name;
  p.nodes = {"ALL"};
  p.priority_tier = tier;
  p.preempt_mode = mode;
  p.grace_ms = grace;
  return p;
}

// A cluster, its running jobs and its waiting ones; specs live as long as the fixture.
struct World {
  SchedulerState st;
  std::deque<JobSpec> specs;

  World() { st.now = 1000000; }

  const JobSpec* Spec(int cpus, const std::string& partition, int nodes = 1,
                      const std::string& qos = "") {
    JobSpec s;
    s.nodes = nodes;
    s.ntasks = cpus * nodes;
    s.time_limit_ms = 3600000;
    s.partition = partition;
    s.qos = qos;
    s.user = "u";
    specs.push_back(s);
    return &specs.back();
  }
  void Node(const std::string& name, int cpus) { st.nodes.push_back(CpuNode(name, cpus)); }
  // Job `id` runs on `on` (node -> CPUs) since `start`.
  void Run(JobId id, std::map<std::string, int> on, TimeMs start, const JobSpec* spec,
           bool preempting = false) {
    RunningJob r;
    r.id = id;
    r.spec = spec;
    r.start = start;
    r.expected_end = st.now + 3600000;
    r.preempting = preempting;
    for (const auto& [node, cpus] : on) {
      r.alloc.push_back({node, cpus, 0, {}, 0});
      for (NodeView& n : st.nodes) {
        if (n.profile.name == node) n.free_cpus -= cpus;
      }
    }
    st.running.push_back(r);
  }
  void Wait(JobId id, const JobSpec* spec) {
    WaitingJob w;
    w.id = id;
    w.spec = spec;
    w.priority.eligible_ms = st.now;
    st.pending.push_back(w);
  }
  Decisions Pass() const { return Schedule(st, SchedulerConfig{}); }
};

// "victim>preemptor:mode/grace", one per decision, in order.
std::vector<std::string> Shown(const Decisions& d) {
  std::vector<std::string> out;
  for (const PreemptDecision& p : d.preemptions) {
    out.push_back(std::to_string(p.victim) + ">" + std::to_string(p.preemptor) + ":" +
                  PreemptModeName(p.terms.mode) + "/" + std::to_string(p.terms.grace_ms));
  }
  return out;
}

using Strings = std::vector<std::string>;

// Two tiers over two 4-CPU nodes, both full of low-tier jobs.
World TwoTiers(PreemptMode low_mode) {
  World w;
  w.st.partitions = {Part("low", 1, low_mode, 30000), Part("high", 2, PreemptMode::kOff)};
  w.Node("n1", 4);
  w.Node("n2", 4);
  w.Run(1, {{"n1", 4}}, 100, w.Spec(4, "low"));
  w.Run(2, {{"n2", 4}}, 200, w.Spec(4, "low"));
  return w;
}

TEST(Preempt, AHigherTierTakesTheYoungestLowerTierJob) {
  World w = TwoTiers(PreemptMode::kRequeue);
  w.Wait(10, w.Spec(4, "high"));
  Decisions d = w.Pass();
  EXPECT_EQ(Shown(d), Strings{"2>10:requeue/30000"});
  EXPECT_TRUE(d.starts.empty());  // it starts once job 2 is gone
}

TEST(Preempt, NobodyIsPreemptedWhenModesOrTiersDoNotAllowIt) {
  {
    World w = TwoTiers(PreemptMode::kOff);
    w.Wait(10, w.Spec(4, "high"));
    EXPECT_TRUE(w.Pass().preemptions.empty()) << "the low partition's mode is off";
  }
  {
    World w = TwoTiers(PreemptMode::kCancel);
    w.Wait(10, w.Spec(4, "low"));
    EXPECT_TRUE(w.Pass().preemptions.empty()) << "same tier";
  }
  {
    World w = TwoTiers(PreemptMode::kCancel);
    w.Wait(10, w.Spec(8, "high"));  // more than any node has: never fits
    EXPECT_TRUE(w.Pass().preemptions.empty());
  }
  {
    World w = TwoTiers(PreemptMode::kCancel);
    w.Node("n3", 4);
    w.Wait(10, w.Spec(4, "high"));
    Decisions d = w.Pass();
    EXPECT_TRUE(d.preemptions.empty()) << "it fits on the free node";
    ASSERT_EQ(d.starts.size(), 1u);
    EXPECT_EQ(d.starts[0].id, 10);
  }
}

TEST(Preempt, ANoRequeueJobIsCancelledInstead) {
  World w = TwoTiers(PreemptMode::kRequeue);
  JobSpec s = *w.st.running[1].spec;
  s.requeue = false;
  w.specs.push_back(s);
  w.st.running[1].spec = &w.specs.back();
  w.Wait(10, w.Spec(4, "high"));
  EXPECT_EQ(Shown(w.Pass()), Strings{"2>10:cancel/30000"});
}

TEST(Preempt, OneLargeVictimRatherThanManySmallOnes) {
  World w;
  w.st.partitions = {Part("low", 1, PreemptMode::kCancel), Part("high", 2, PreemptMode::kOff)};
  w.Node("n1", 4);
  w.Node("n2", 4);
  // Four young one-CPU jobs on n1 (the cheapest victims one by one), one old job on n2.
  for (JobId id = 1; id <= 4; ++id) w.Run(id, {{"n1", 1}}, 1000 + id, w.Spec(1, "low"));
  w.Run(5, {{"n2", 4}}, 10, w.Spec(4, "low"));
  w.Wait(10, w.Spec(4, "high"));
  EXPECT_EQ(Shown(w.Pass()), Strings{"5>10:cancel/0"});
}

TEST(Preempt, VictimsItCanDoWithoutAreDropped) {
  World w;
  w.st.partitions = {Part("low", 1, PreemptMode::kCancel), Part("high", 2, PreemptMode::kOff)};
  w.Node("n1", 2);
  w.Node("n2", 2);
  w.Node("n3", 2);
  w.Run(1, {{"n1", 2}}, 300, w.Spec(2, "low"));  // youngest: tried first
  w.Run(2, {{"n2", 1}}, 200, w.Spec(1, "low"));  // frees half a node: not enough with 1 alone
  w.Run(3, {{"n2", 1}}, 50, w.Spec(1, "high"));  // not preemptable: n2 never frees fully
  w.Run(4, {{"n3", 2}}, 100, w.Spec(2, "low"));
  w.Wait(10, w.Spec(2, "high", 2));  // two whole nodes
  // Cheapest first: 1, then 2 (useless without 3), then 4; 2 is dropped again.
  EXPECT_EQ(Shown(w.Pass()), (Strings{"1>10:cancel/0", "4>10:cancel/0"}));
}

TEST(Preempt, JobsBeingPreemptedAreNotChosenAgainAndServeTheirPreemptor) {
  World w = TwoTiers(PreemptMode::kCancel);
  w.st.running[1].preempting = true;  // job 2 is in its grace time, for job 10
  w.Wait(10, w.Spec(4, "high"));
  w.Wait(11, w.Spec(4, "high"));
  // Job 10 takes what job 2 gives back; job 11 preempts job 1.
  EXPECT_EQ(Shown(w.Pass()), Strings{"1>11:cancel/30000"});
}

TEST(Preempt, TwoPreemptorsNeverShareAVictim) {
  World w = TwoTiers(PreemptMode::kCancel);
  w.Wait(10, w.Spec(4, "high"));
  w.Wait(11, w.Spec(4, "high"));
  w.Wait(12, w.Spec(4, "high"));
  EXPECT_EQ(Shown(w.Pass()), (Strings{"2>10:cancel/30000", "1>11:cancel/30000"}));
}

TEST(Preempt, ByQos) {
  World w;
  Qos low, high, normal;
  normal.name = kDefaultQos;
  low.name = "low";
  low.preempt_mode = PreemptMode::kRequeue;
  low.grace_ms = 5000;
  high.name = "high";
  high.preempt = {"low"};
  w.st.qos = {{"low", low}, {"high", high}, {kDefaultQos, normal}};
  w.Node("n1", 4);
  w.Run(1, {{"n1", 2}}, 100, w.Spec(2, "", 1, "low"));
  w.Run(2, {{"n1", 2}}, 200, w.Spec(2, "", 1, ""));  // normal: not listed by high
  w.Wait(10, w.Spec(2, "", 1, "high"));
  w.Wait(11, w.Spec(2, "", 1, ""));  // normal preempts nobody
  EXPECT_EQ(Shown(w.Pass()), Strings{"1>10:requeue/5000"});
}

TEST(Preempt, TermsForNamesTheRule) {
  std::vector<Partition> parts = {Part("low", 1, PreemptMode::kCancel, 7),
                                  Part("high", 3, PreemptMode::kRequeue, 9)};
  JobSpec lo, hi;
  lo.partition = "low", hi.partition = "high";
  auto t = TermsFor(hi, lo, parts, {});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->mode, PreemptMode::kCancel);
  EXPECT_EQ(t->grace_ms, 7);
  EXPECT_FALSE(TermsFor(lo, hi, parts, {}));
  EXPECT_FALSE(TermsFor(hi, hi, parts, {}));
  EXPECT_TRUE(PreemptionConfigured(parts, {}));
  parts[0].preempt_mode = PreemptMode::kOff;
  EXPECT_FALSE(PreemptionConfigured(parts, {})) << "only the top tier may be preempted: by nobody";
}

// Random clusters of two tiers: every decision frees what its preemptor needs, no victim is
// spare, no job is preempted twice, and only lower-tier jobs are victims.
TEST(Preempt, PropertiesOnRandomWorkloads) {
  std::mt19937 rng(20261202);
  int checked = 0, decided = 0;
  for (int round = 0; round < 2000; ++round) {
    World w;
    w.st.partitions = {Part("low", 1, PreemptMode::kRequeue), Part("high", 2, PreemptMode::kOff)};
    const int n_nodes = 2 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n_nodes; ++i) w.Node("n" + std::to_string(i), 4 + 4 * (rng() % 2));
    JobId next = 1;
    for (int i = 0; i < n_nodes; ++i) {
      NodeView& n = w.st.nodes[i];
      while (n.free_cpus > 0 && rng() % 4 != 0) {
        int cpus = 1 + static_cast<int>(rng() % n.free_cpus);
        w.Run(next, {{n.profile.name, cpus}}, 100 + static_cast<TimeMs>(rng() % 1000),
              w.Spec(cpus, rng() % 3 ? "low" : "high"), rng() % 8 == 0);
        ++next;
      }
    }
    const int n_wait = round % 2 ? 1 : 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n_wait; ++i) {
      w.Wait(1000 + i, w.Spec(1 + static_cast<int>(rng() % 8), rng() % 4 ? "high" : "low",
                              1 + static_cast<int>(rng() % 2)));
    }
    Decisions d = w.Pass();
    std::map<JobId, const RunningJob*> run;
    for (const RunningJob& r : w.st.running) run[r.id] = &r;
    std::map<JobId, std::vector<JobId>> by_preemptor;
    std::set<JobId> seen;
    for (const PreemptDecision& p : d.preemptions) {
      ASSERT_TRUE(run.count(p.victim));
      EXPECT_TRUE(seen.insert(p.victim).second) << "job " << p.victim << " preempted twice";
      EXPECT_FALSE(run[p.victim]->preempting);
      EXPECT_EQ(run[p.victim]->spec->partition, "low");
      by_preemptor[p.preemptor].push_back(p.victim);
      ++decided;
    }
    // Each preemptor fits on the free nodes plus what the pass's victims and the jobs being
    // preempted give back (an earlier preemptor's victims may free more than it needs).
    for (const auto& [who, victims] : by_preemptor) {
      const JobSpec* spec = nullptr;
      for (const WaitingJob& x : w.st.pending) {
        if (x.id == who) spec = x.spec;
      }
      ASSERT_NE(spec, nullptr);
      EXPECT_EQ(spec->partition, "high");
      auto fits = [&](JobId skip) {
        std::vector<NodeView> v = w.st.nodes;
        for (const RunningJob& r : w.st.running) {
          bool give = r.preempting || (r.id != skip && seen.count(r.id));
          if (give) Unreserve(r.alloc, &v);
        }
        return PlaceJob(*spec, v).kind == Placement::Kind::kPlaced;
      };
      EXPECT_TRUE(fits(0)) << "round " << round << ": job " << who;
      // Alone in the queue, with nobody being preempted already, what it may use is exactly
      // the free nodes and its victims: no victim is spare.
      bool any_preempting = std::any_of(w.st.running.begin(), w.st.running.end(),
                                        [](const RunningJob& r) { return r.preempting; });
      if (w.st.pending.size() == 1 && !any_preempting) {
        checked += victims.size() > 1;
        for (JobId v : victims) {
          EXPECT_FALSE(fits(v)) << "round " << round << ": job " << v << " was spare";
        }
      }
    }
  }
  // The workloads exercise what they test.
  EXPECT_GT(decided, 300) << decided;
  EXPECT_GT(checked, 25) << checked;  // cases of several victims, each one needed
}

}  // namespace
}  // namespace corral::sched
