// Property: over a long synthetic load, scheduling passes that take their fair-share factors
// from the Fair Tree (fairshare.h, fed the usage the started jobs accrue) move each account's
// share of the cluster toward its shares. Every user always has work queued, so only priority
// decides who gets the freed CPUs. Also: no node is ever over-allocated along the way.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "sched/core/fairshare.h"
#include "sched/core/schedule.h"
#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

using testing::CpuNode;

TEST(FairShareLoad, UsageMovesTowardTheShares) {
  const std::vector<std::pair<std::string, int64_t>> accounts = {{"a", 1}, {"b", 2}, {"c", 3}};
  std::vector<FairShareAccount> acc;
  std::vector<FairShareUser> users;
  for (const auto& [name, shares] : accounts) {
    acc.push_back({name, "", shares});
    users.push_back({"u" + name, name, 1});
  }
  auto tree = FairShareTree::Build(acc, users);
  ASSERT_TRUE(tree.ok()) << tree.status().message();

  SchedulerState st;
  for (int i = 0; i < 6; ++i) st.nodes.push_back(CpuNode("n" + std::to_string(i), 4));
  SchedulerConfig cfg;
  cfg.weights.age = 0;
  cfg.weights.fairshare = 100000;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> cpus(1, 4), secs(5, 40);
  std::vector<std::unique_ptr<JobSpec>> specs;
  struct Waiting {
    JobId id;
    JobSpec* spec;
  };
  std::vector<Waiting> queue;
  JobId next = 1;
  auto enqueue = [&](const std::string& account) {
    auto s = std::make_unique<JobSpec>();
    s->account = account;
    s->user = "u" + account;
    s->ntasks = cpus(rng);
    s->time_limit_ms = secs(rng) * 1000;
    queue.push_back({next++, s.get()});
    specs.push_back(std::move(s));
  };
  for (int k = 0; k < 20; ++k) {
    for (const auto& [name, shares] : accounts) enqueue(name);
  }
  struct Run {
    JobId id;
    const JobSpec* spec;
    TimeMs end;
    Allocation alloc;
  };
  std::vector<Run> running;
  std::map<std::string, double> received;  // CPU-seconds by account, after a warm-up
  const TimeMs kStep = 1000, kHalfLife = 3600 * 1000, kEnd = 6 * 3600 * 1000, kWarm = 3600 * 1000;
  for (TimeMs now = 0; now < kEnd; now += kStep) {
    // Usage accrued over the last step, then jobs due end and give their CPUs back.
    tree->Decay(kStep, kHalfLife);
    for (const Run& r : running) {
      const double used = static_cast<double>(r.spec->TotalCpus());
      tree->AddUsage(r.spec->account, r.spec->user, used);
      if (now >= kWarm) received[r.spec->account] += used;
    }
    std::erase_if(running, [&](const Run& r) {
      if (r.end > now) return false;
      Unreserve(r.alloc, &st.nodes);
      enqueue(r.spec->account);  // each user keeps its queue full
      return true;
    });
    st.now = now;
    st.running.clear();
    for (const Run& r : running) st.running.push_back({r.id, r.alloc, r.end, r.spec});
    st.pending.clear();
    for (const Waiting& w : queue) {
      WaitingJob j;
      j.id = w.id;
      j.spec = w.spec;
      j.priority.eligible_ms = now;
      j.priority.cpus = w.spec->TotalCpus();
      j.priority.fairshare = tree->Factor(w.spec->account, w.spec->user);
      st.pending.push_back(j);
    }
    Decisions d = Schedule(st, cfg);
    for (const StartDecision& s : d.starts) {
      ASSERT_TRUE(Reserve(s.alloc, &st.nodes)) << "job " << s.id << " over-allocates at " << now;
      auto it =
          std::find_if(queue.begin(), queue.end(), [&](const Waiting& w) { return w.id == s.id; });
      ASSERT_NE(it, queue.end());
      running.push_back({s.id, it->spec, now + it->spec->time_limit_ms, s.alloc});
      queue.erase(it);
    }
  }
  double total = 0;
  for (const auto& [a, v] : received) total += v;
  ASSERT_GT(total, 0);
  for (const auto& [name, shares] : accounts) {
    const double want = static_cast<double>(shares) / 6, got = received[name] / total;
    EXPECT_NEAR(got, want, 0.04) << "account " << name << " shares " << shares;
  }
}

}  // namespace
}  // namespace corral::sched
