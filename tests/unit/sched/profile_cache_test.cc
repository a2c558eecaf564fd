// The profile cache against building the profile afresh: random workloads of CPU, GPU (either
// model, a model no node has), multi-node and heterogeneous jobs, some running past their
// expected end, replayed pass by pass under each backfill mode. Every pass must decide exactly
// what it decides without the cache, and the cached skyline must equal a fresh one.
#include "sched/core/profile_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "sched/core/schedule.h"
#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

NodeProfile Node(const std::string& name, int cpus, int gpus, const std::string& model) {
  NodeProfile p;
  p.name = name;
  p.cpus = cpus;
  p.mem_mib = 64000;
  for (int i = 0; i < gpus; ++i) p.gpus.push_back({i, model, 81920, i % 2, ""});
  return p;
}

std::string Describe(const Decisions& d) {
  std::string s;
  for (const auto& x : d.starts)
    s += "start " + std::to_string(x.id) + " " + testing::Where(x.alloc) + "\n";
  for (const auto& x : d.reservations) {
    s += "reserve " + std::to_string(x.id) + " @" + std::to_string(x.start) + " " +
         testing::Where(x.alloc) + "\n";
  }
  for (const auto& [id, why] : d.reasons) s += "wait " + std::to_string(id) + " " + why + "\n";
  for (const auto& p : d.preemptions) s += "preempt " + std::to_string(p.victim) + "\n";
  return s;
}

// What is free on every node at every change point, and the change points themselves.
std::string Skyline(const AvailabilityProfile& p) {
  std::string s;
  const std::vector<TimeMs> t = p.ChangePoints();
  for (size_t k = 0; k < t.size(); ++k) {
    s += "@" + std::to_string(t[k]) + ":";
    const TimeMs end = k + 1 < t.size() ? t[k + 1] : kForever;
    for (const NodeView& v : p.FreeThroughout(t[k], end)) {
      s += " " + std::to_string(v.free_cpus) + "/" + std::to_string(v.free_mem_mib) + "/";
      for (bool g : v.gpu_free) s += g ? '1' : '0';
      for (int32_t m : v.gpu_milli_used) s += "," + std::to_string(m);
    }
    s += "\n";
  }
  return s;
}

struct Sim {
  SchedulerState st;
  NodeIndex index;
  std::vector<JobSpec> specs;
  std::map<JobId, TimeMs> ends;  // running job -> when it really ends
};

void Replay(BackfillMode mode, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Sim sim;
  SchedulerState& st = sim.st;
  for (int i = 0; i < 3; ++i)
    st.nodes.push_back(NodeView::Idle(Node("c" + std::to_string(i), 8, 0, "")));
  st.nodes.push_back(NodeView::Idle(Node("h0", 16, 4, "h100")));
  st.nodes.push_back(NodeView::Idle(Node("h1", 16, 4, "h100")));
  st.nodes.push_back(NodeView::Idle(Node("a0", 16, 2, "a100")));
  sim.index = IndexNodes(st.nodes);
  const int jobs = 160;
  sim.specs.resize(jobs);
  for (int k = 0; k < jobs; ++k) {
    JobSpec& s = sim.specs[k];
    s.nodes = pick(1, 3) == 1 ? pick(1, 3) : 1;
    s.ntasks = s.nodes * pick(1, 4);
    s.cpus_per_task = pick(1, 2);
    if (pick(0, 3) == 0) {
      s.gpus = pick(1, 3);
      const char* models[] = {"", "h100", "a100", "h100|a100", "b200|a100"};
      s.gpu_model = models[pick(0, 4)];
      s.gpu_model = s.gpu_model.empty() || s.gpus <= 2 ? s.gpu_model : "h100";
      // Shares of one GPU, some on a GPU others share.
      if (s.nodes == 1 && pick(0, 2) == 0) s.gpus = 1, s.gpu_milli = 100 * pick(1, 9);
    }
    if (pick(0, 9) == 0) {
      JobSpec::HetComponent h;
      h.nodes = 1, h.ntasks = pick(1, 4), h.cpus_per_task = 1;
      s.het.push_back(h);
    }
    s.time_limit_ms = 1000 * pick(5, 60);
  }
  SchedulerConfig cfg;
  cfg.backfill.mode = mode;
  ProfileCache cache;
  std::map<JobId, Reservation> held;
  TimeMs now = 0;
  int next = 0;
  for (int pass = 0; pass < 2000 && (next < jobs || !st.pending.empty() || !sim.ends.empty());
       ++pass) {
    // Ends due by now, then arrivals.
    for (auto it = sim.ends.begin(); it != sim.ends.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      auto r = std::find_if(st.running.begin(), st.running.end(),
                            [&](const RunningJob& x) { return x.id == it->first; });
      GiveAt(r->alloc, sim.index, &st.nodes);
      cache.Ended(r->id);
      st.running.erase(r);
      it = sim.ends.erase(it);
    }
    for (int arrivals = pick(0, 3); arrivals > 0 && next < jobs; --arrivals, ++next) {
      WaitingJob w;
      w.id = next + 1;
      w.spec = &sim.specs[next];
      w.priority.eligible_ms = now;
      st.pending.push_back(w);
    }
    for (WaitingJob& w : st.pending) {
      auto h = held.find(w.id);
      w.held = h == held.end() ? nullptr : &h->second;
    }
    st.now = now;
    st.profile_cache = nullptr;
    const std::string fresh = Describe(Schedule(st, cfg));
    st.profile_cache = &cache;
    Decisions d = Schedule(st, cfg);
    ASSERT_EQ(Describe(d), fresh) << "seed " << seed << " at " << now;
    {
      AvailabilityProfile built(now, st.nodes, st.running);
      const std::string want = Skyline(built);
      const std::string got = Skyline(cache.Begin(now, st.nodes, st.running));
      cache.End();
      ASSERT_EQ(got, want) << "seed " << seed << " at " << now;
    }
    for (const StartDecision& s : d.starts) {
      TakeAt(s.alloc, sim.index, &st.nodes);
      RunningJob r;
      r.id = s.id;
      r.alloc = s.alloc;
      r.start = now;
      r.spec = &sim.specs[s.id - 1];
      r.expected_end = now + r.spec->time_limit_ms;
      // Most end early; some overrun their expected end (the profile gives them back at now + 1).
      const int roll = pick(0, 9);
      const TimeMs run = roll < 7 ? 1000 * pick(1, static_cast<int>(r.spec->time_limit_ms / 1000))
                                  : r.spec->time_limit_ms + 1000 * pick(0, 10);
      sim.ends[s.id] = now + run;
      cache.Started(s.id, s.alloc, r.expected_end);
      st.running.push_back(std::move(r));
      std::erase_if(st.pending, [&](const WaitingJob& w) { return w.id == s.id; });
    }
    // Jobs no node could ever hold leave (they would wait for ever).
    for (const auto& [id, why] : d.reasons) {
      if (why.rfind("ReqNodeNotAvail", 0) != 0) continue;
      std::erase_if(st.pending, [&, id = id](const WaitingJob& w) { return w.id == id; });
    }
    held.clear();
    for (Reservation& r : d.reservations) held.emplace(r.id, std::move(r));
    now += 1000 * pick(0, 4) + pick(0, 1);
  }
  EXPECT_TRUE(st.pending.empty() && sim.ends.empty() && next == jobs) << "seed " << seed;
  EXPECT_GT(cache.reuses(), cache.builds()) << "the cache was used";
}

TEST(ProfileCache, SameDecisionsAndSkylineAsAFreshProfileEasy) {
  for (uint32_t seed = 1; seed <= 12; ++seed) Replay(BackfillMode::kEasy, seed);
}

TEST(ProfileCache, SameDecisionsAndSkylineAsAFreshProfileConservative) {
  for (uint32_t seed = 1; seed <= 12; ++seed) Replay(BackfillMode::kConservative, seed);
}

TEST(ProfileCache, SameDecisionsAndSkylineAsAFreshProfileFcfs) {
  for (uint32_t seed = 1; seed <= 6; ++seed) Replay(BackfillMode::kFcfs, seed);
}

// A state the cache was not told about (a job started behind its back) is noticed by its count
// of running jobs, and the profile is built again.
TEST(ProfileCache, RebuildsWhenTheRunningJobsDisagree) {
  std::vector<NodeView> nodes = {NodeView::Idle(Node("n1", 4, 0, ""))};
  ProfileCache cache;
  cache.Begin(0, nodes, {});
  cache.End();
  NodeAllocation a;
  a.node = "n1";
  a.cpus = 4;
  nodes[0].free_cpus = 0;
  RunningJob r;
  r.id = 7;
  r.alloc = {a};
  r.expected_end = 100;
  AvailabilityProfile& p = cache.Begin(10, nodes, {r});
  EXPECT_EQ(cache.builds(), 2);
  JobSpec one;
  one.nodes = 1, one.ntasks = 1, one.cpus_per_task = 1;
  EXPECT_FALSE(p.PlaceAt(one, 10, 20));
  cache.End();
}

}  // namespace
}  // namespace corral::sched
