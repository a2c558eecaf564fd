// Backfill, EASY and conservative: tables of small clusters with the exact start time and nodes
// of every job, then properties of random workloads simulated forward in time.
#include "sched/core/backfill.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

constexpr TimeMs kNow = 100;
constexpr TimeMs kStartsNow = kNow;
constexpr TimeMs kNoStart = -1;  // neither started nor reserved

NodeProfile Node(const std::string& name, int cpus, int64_t mem = 64000, int gpus = 0,
                 const std::string& model = "h100") {
  NodeProfile p;
  p.name = name;
  p.cpus = cpus;
  p.mem_mib = mem;
  for (int i = 0; i < gpus; ++i) p.gpus.push_back({i, model, 81920, i < gpus / 2 ? 0 : 1, ""});
  return p;
}

JobSpec Job(int nodes, int ntasks, int cpt, int gpus = 0, const std::string& model = "") {
  JobSpec s;
  s.nodes = nodes;
  s.ntasks = ntasks;
  s.cpus_per_task = cpt;
  s.gpus = gpus;
  s.gpu_model = model;
  return s;
}

JobSpec Het(JobSpec first, JobSpec::HetComponent second) {
  first.het.push_back(second);
  return first;
}

using testing::Where;

struct Busy {  // a running job's share of one node
  const char* node;
  int cpus;
  std::vector<int32_t> gpus;
  TimeMs end;
};
struct Queued {
  JobSpec spec;
  TimeMs runtime;
};
struct Want {
  TimeMs start;        // kStartsNow, a reservation's start, or kNoStart
  const char* where;   // Where() of the start or reservation
  const char* reason;  // "" when started; a ReqNodeNotAvail reason is matched as a prefix
};
struct Case {
  const char* what;
  std::vector<NodeProfile> nodes;
  std::vector<Busy> running;
  std::vector<Queued> queue;  // job ids 1, 2, ... in priority order
  std::vector<Want> easy, conservative;
  TimeMs window = 1000000;
  TimeMs default_runtime = 1000;
  std::vector<std::string> down = {};
};

std::vector<NodeView> FreeNow(const Case& c) {
  std::vector<NodeView> v;
  for (const auto& p : c.nodes) {
    v.push_back(NodeView::Idle(p));
    v.back().up = std::find(c.down.begin(), c.down.end(), p.name) == c.down.end();
  }
  for (const Busy& b : c.running) {
    NodeAllocation a;
    a.node = b.node;
    a.cpus = b.cpus;
    a.gpu_indices = b.gpus;
    EXPECT_TRUE(Reserve({a}, &v)) << c.what;
  }
  return v;
}

void Check(const Case& c, BackfillMode mode, const std::vector<Want>& want) {
  const char* m = mode == BackfillMode::kEasy ? "easy" : "conservative";
  std::vector<RunningJob> running;
  for (size_t i = 0; i < c.running.size(); ++i) {
    const Busy& b = c.running[i];
    NodeAllocation a;
    a.node = b.node;
    a.cpus = b.cpus;
    a.gpu_indices = b.gpus;
    running.push_back({static_cast<JobId>(1000 + i), {a}, b.end});
  }
  std::vector<PendingJob> queue;
  for (size_t i = 0; i < c.queue.size(); ++i) {
    queue.push_back({static_cast<JobId>(i + 1), &c.queue[i].spec, c.queue[i].runtime});
  }
  BackfillResult r =
      Backfill(kNow, FreeNow(c), running, queue, {mode, c.window, c.default_runtime, {}});
  ASSERT_EQ(want.size(), c.queue.size()) << c.what;
  EXPECT_EQ(r.starts.size() + r.reasons.size(), c.queue.size()) << c.what << " (" << m << ")";
  for (size_t i = 0; i < want.size(); ++i) {
    JobId id = static_cast<JobId>(i + 1);
    std::string ctx = std::string(c.what) + " (" + m + "), job " + std::to_string(id);
    auto s = std::find_if(r.starts.begin(), r.starts.end(), [&](auto& d) { return d.id == id; });
    auto v = std::find_if(r.reservations.begin(), r.reservations.end(),
                          [&](auto& d) { return d.id == id; });
    auto why =
        std::find_if(r.reasons.begin(), r.reasons.end(), [&](auto& d) { return d.first == id; });
    const Want& w = want[i];
    if (w.start == kStartsNow) {
      ASSERT_NE(s, r.starts.end()) << ctx << " should start now";
      EXPECT_EQ(Where(s->alloc), w.where) << ctx;
      EXPECT_EQ(why, r.reasons.end()) << ctx;
      continue;
    }
    EXPECT_EQ(s, r.starts.end()) << ctx << " should not start now";
    if (w.start == kNoStart) {
      EXPECT_EQ(v, r.reservations.end()) << ctx << " should have no reservation, has "
                                         << (v == r.reservations.end() ? 0 : v->start);
    } else {
      ASSERT_NE(v, r.reservations.end()) << ctx << " should be reserved at " << w.start;
      EXPECT_EQ(v->start, w.start) << ctx;
      EXPECT_EQ(Where(v->alloc), w.where) << ctx;
    }
    ASSERT_NE(why, r.reasons.end()) << ctx << " has no reason";
    EXPECT_EQ(why->second.rfind(w.reason, 0), 0u) << ctx << ": " << why->second;
  }
}

const Case kCases[] = {
    {"a wide job waits; short jobs backfill around it; a long one would delay it and waits",
     {Node("n1", 8), Node("n2", 8), Node("n3", 8), Node("n4", 8)},
     {{"n1", 8, {}, 150}},
     {{Job(4, 4, 8), 100}, {Job(1, 1, 4), 30}, {Job(1, 1, 8), 50}, {Job(1, 1, 2), 200}},
     {{150, "n1 n2 n3 n4", "Resources"},
      {kStartsNow, "n2", ""},
      {kStartsNow, "n3", ""},
      {kNoStart, "", "Priority"}},
     {{150, "n1 n2 n3 n4", "Resources"},
      {kStartsNow, "n2", ""},
      {kStartsNow, "n3", ""},
      {250, "n1", "Priority"}}},
    {"a long job starts on what the reserved job leaves free",
     {Node("n1", 8), Node("n2", 8), Node("n3", 8), Node("n4", 8)},
     {{"n1", 8, {}, 150}, {"n2", 8, {}, 200}, {"n3", 8, {}, 300}},
     {{Job(2, 2, 4), 100}, {Job(1, 1, 4), 1000}, {Job(1, 1, 8), 10}},
     {{150, "n1 n4", "Resources"}, {kStartsNow, "n4", ""}, {kNoStart, "", "Priority"}},
     {{150, "n1 n4", "Resources"}, {kStartsNow, "n4", ""}, {200, "n2", "Priority"}}},
    {"conservative reserves for every waiting job, EASY for the first only",
     {Node("n1", 8), Node("n2", 8)},
     {{"n1", 8, {}, 200}, {"n2", 8, {}, 300}},
     {{Job(1, 1, 8), 100}, {Job(1, 1, 8), 100}, {Job(2, 2, 8), 50}, {Job(1, 1, 2), 10}},
     {{200, "n1", "Resources"},
      {kNoStart, "", "Priority"},
      {kNoStart, "", "Priority"},
      {kNoStart, "", "Priority"}},
     {{200, "n1", "Resources"},
      {300, "n1", "Priority"},
      {400, "n1 n2", "Priority"},
      {300, "n2", "Priority"}}},
    {"GPU jobs: models, GPUs free throughout, CPU jobs kept off GPU nodes",
     {Node("cpu1", 16), Node("g1", 32, 64000, 4, "h100"), Node("g2", 32, 64000, 4, "a100")},
     {{"g1", 4, {0, 1}, 200}},
     {{Job(1, 1, 1, 4, "h100"), 100},
      {Job(1, 1, 1, 2, "h100"), 50},
      {Job(1, 1, 1, 2, "h100"), 500},
      {Job(1, 1, 1, 2), 500},
      {Job(1, 1, 4), 1000},
      {Job(1, 1, 1, 1, "a100"), 10},
      {Job(1, 1, 1, 1, "b200"), 10}},
     {{200, "g1[0,1,2,3]", "Resources"},
      {kStartsNow, "g1[2,3]", ""},
      {kNoStart, "", "Priority"},
      {kStartsNow, "g2[0,1]", ""},
      {kStartsNow, "cpu1", ""},
      {kStartsNow, "g2[2]", ""},
      {kNoStart, "", "ReqNodeNotAvail ("}},
     {{200, "g1[0,1,2,3]", "Resources"},
      {kStartsNow, "g1[2,3]", ""},
      {300, "g1[0,1]", "Priority"},
      {kStartsNow, "g2[0,1]", ""},
      {kStartsNow, "cpu1", ""},
      {kStartsNow, "g2[2]", ""},
      {kNoStart, "", "ReqNodeNotAvail ("}}},
    {"multi-node jobs",
     {Node("n1", 8), Node("n2", 8), Node("n3", 8)},
     {{"n1", 6, {}, 300}},
     {{Job(3, 3, 4), 100}, {Job(2, 2, 4), 200}, {Job(2, 2, 1), 1000}, {Job(2, 2, 4), 100}},
     {{300, "n1 n2 n3", "Resources"},
      {kStartsNow, "n2 n3", ""},
      {kStartsNow, "n1 n2", ""},
      {kNoStart, "", "Priority"}},
     {{300, "n1 n2 n3", "Resources"},
      {kStartsNow, "n2 n3", ""},
      {kStartsNow, "n1 n2", ""},
      {400, "n1 n2", "Priority"}}},
    {"a heterogeneous job starts all together, later; others backfill around it",
     {Node("g1", 4, 64000, 2), Node("c1", 8), Node("c2", 8)},
     {{"c1", 8, {}, 200}},
     {{Het(Job(1, 1, 1, 2, "h100"), {2, 2, 4, 0, "", 0, 0}), 100},
      {Job(1, 1, 8), 50},
      {Job(1, 1, 4), 500}},
     {{200, "c1#1 c2#1 g1[0,1]", "Resources"}, {kStartsNow, "c2", ""}, {kNoStart, "", "Priority"}},
     {{200, "c1#1 c2#1 g1[0,1]", "Resources"}, {kStartsNow, "c2", ""}, {150, "c2", "Priority"}}},
    {"a running job past its expected end may end at any moment (now + 1)",
     {Node("n1", 8)},
     {{"n1", 8, {}, 50}},
     {{Job(1, 1, 8), 100}, {Job(1, 1, 1), 10}},
     {{101, "n1", "Resources"}, {kNoStart, "", "Priority"}},
     {{101, "n1", "Resources"}, {201, "n1", "Priority"}}},
    {"unlimited runtimes are planned with the default runtime",
     {Node("n1", 8), Node("n2", 8)},
     {{"n1", 8, {}, 200}},
     {{Job(2, 2, 8), 0}, {Job(1, 1, 8), 0}, {Job(1, 1, 8), 100}},
     {{200, "n1 n2", "Resources"}, {kNoStart, "", "Priority"}, {kStartsNow, "n2", ""}},
     {{200, "n1 n2", "Resources"}, {1200, "n1", "Priority"}, {kStartsNow, "n2", ""}}},
    {"without a default runtime an unlimited job holds its node forever",
     {Node("n1", 8), Node("n2", 8)},
     {{"n2", 8, {}, 200}},
     {{Job(1, 1, 8), 0}, {Job(2, 2, 8), 100}, {Job(1, 1, 8), 50}, {Job(1, 1, 1), 10}},
     {{kStartsNow, "n1", ""},
      {kNoStart, "", "Resources"},
      {200, "n2", "Resources"},
      {kNoStart, "", "Priority"}},
     {{kStartsNow, "n1", ""},
      {kNoStart, "", "Resources"},
      {200, "n2", "Resources"},
      {250, "n2", "Priority"}},
     1000000,
     0},
    {"a job that can start only beyond the planning window gets no reservation",
     {Node("n1", 8), Node("n2", 8)},
     {{"n1", 8, {}, 5000}, {"n2", 8, {}, 600}},
     {{Job(2, 2, 8), 100}, {Job(1, 1, 8), 100}, {Job(1, 1, 8), 100}},
     {{kNoStart, "", "Resources"}, {600, "n2", "Resources"}, {kNoStart, "", "Priority"}},
     {{kNoStart, "", "Resources"}, {600, "n2", "Resources"}, {700, "n2", "Priority"}},
     1000},
    {"jobs only nodes that are not up could hold block nobody",
     {Node("cpu1", 4), Node("gpu1", 4, 64000, 1, "b200")},
     {},
     {{Job(1, 1, 1, 1, "b200"), 10},
      {Job(1, 1, 2), 10},
      {Job(1, 1, 4), 10},
      {Job(1, 1, 1, 1, "b200"), 10},
      {Job(1, 1, 2), 1000}},
     {{kNoStart, "", "ReqNodeNotAvail (nodes down, being checked or failed): --gpus=b200:1"},
      {kStartsNow, "cpu1", ""},
      {110, "cpu1", "Resources"},
      {kNoStart, "", "ReqNodeNotAvail ("},
      {kNoStart, "", "Priority"}},
     {{kNoStart, "", "ReqNodeNotAvail (nodes down, being checked or failed): --gpus=b200:1"},
      {kStartsNow, "cpu1", ""},
      {110, "cpu1", "Resources"},
      {kNoStart, "", "ReqNodeNotAvail ("},
      {120, "cpu1", "Priority"}},
     1000000,
     1000,
     {"gpu1"}},
};

TEST(Backfill, Table) {
  for (const Case& c : kCases) {
    Check(c, BackfillMode::kEasy, c.easy);
    Check(c, BackfillMode::kConservative, c.conservative);
  }
}

// Conservative: a reservation handed back (PendingJob::held) stays with its job, even against a
// new higher-priority job that would have been placed on it; one that no longer fits (the job
// before it overran) is dropped and the job is planned afresh. EASY ignores it.
TEST(Backfill, ConservativeKeepsHeldReservations) {
  std::vector<NodeView> free{NodeView::Idle(Node("n1", 8)), NodeView::Idle(Node("n2", 8))};
  free[0].free_cpus = free[1].free_cpus = 0;
  NodeAllocation on1, on2;
  on1.node = "n1", on2.node = "n2";
  on1.cpus = on2.cpus = 8;
  const std::vector<RunningJob> running{{10, {on1}, 300}, {11, {on2}, 200}};
  JobSpec whole = Job(1, 1, 8);
  const Reservation kept{2, 200, {on2}};
  const std::vector<PendingJob> queue{{1, &whole, 100, nullptr}, {2, &whole, 100, &kept}};
  auto at = [](const BackfillResult& r, JobId id) {
    for (const auto& v : r.reservations)
      if (v.id == id) return std::to_string(v.start) + " " + Where(v.alloc);
    return std::string("none");
  };
  const BackfillConfig conservative{BackfillMode::kConservative, 1000000, 1000, {}};
  BackfillResult r = Backfill(kNow, free, running, queue, conservative);
  EXPECT_EQ(at(r, 1), "300 n1");
  EXPECT_EQ(at(r, 2), "200 n2");
  // Without it, the new job takes the slot.
  r = Backfill(kNow, free, running, {queue[0], {2, &whole, 100, nullptr}}, conservative);
  EXPECT_EQ(at(r, 1), "200 n2");
  EXPECT_EQ(at(r, 2), "300 n1");
  // n2's job overran: it may end at any moment (now + 1), so the held slot is gone and both
  // jobs are planned afresh, in priority order.
  r = Backfill(250, free, running, queue, conservative);
  EXPECT_EQ(at(r, 1), "251 n2");
  EXPECT_EQ(at(r, 2), "300 n1");
  // EASY ignores held slots: the first job that waits holds the one reservation.
  r = Backfill(kNow, free, running, queue, {BackfillMode::kEasy, 1000000, 1000, {}});
  EXPECT_EQ(at(r, 1), "200 n2");
  EXPECT_EQ(at(r, 2), "none");
}

// How running jobs end against their estimate in a simulation.
enum class Ends { kAsEstimated, kEarly, kSomeOverrun };

struct SimJob {
  JobSpec spec;
  TimeMs runtime;  // the estimate given to the pass; 0 = unlimited (the default runtime)
  TimeMs actual;   // how long it really runs
};

struct Sim {
  std::vector<NodeView> nodes;
  std::vector<SimJob> jobs;  // job id i + 1, in priority order
};

constexpr TimeMs kSimDefaultRuntime = 300;

Sim RandomSim(uint32_t seed, Ends ends) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Sim s;
  int n = pick(2, 6);
  for (int i = 0; i < n; ++i) {
    int gpus = pick(0, 2) == 0 ? 2 * pick(1, 2) : 0;
    s.nodes.push_back(NodeView::Idle(Node("n" + std::to_string(i), 4 * pick(1, 4),
                                          4000 * pick(1, 4), gpus, pick(0, 1) ? "h100" : "a100")));
    s.nodes.back().up = i == 0 || pick(0, 9) != 0;
  }
  for (int j = pick(8, 25); j > 0; --j) {
    JobSpec spec = Job(pick(0, 9) == 0 ? 3 : pick(1, 2), 0, 1 << pick(0, 2));
    spec.ntasks = spec.nodes * pick(1, 2);
    spec.mem_mib = 1000 * pick(0, 3);
    if (pick(0, 3) == 0) {
      spec.gpu_model = pick(0, 1) ? "h100" : "";
      if (pick(0, 1)) {
        spec.gpus_per_node = pick(1, 2);
      } else {
        spec.gpus = pick(1, 3);
      }
    }
    if (pick(0, 9) == 0) spec.het.push_back({pick(1, 2), 2, pick(1, 2), 0, "", 0, 0});
    TimeMs runtime = pick(0, 9) == 0 ? 0 : 10 * pick(1, 40);
    TimeMs estimate = runtime > 0 ? runtime : kSimDefaultRuntime;
    TimeMs actual = estimate;
    if (ends == Ends::kEarly) actual = pick(1, static_cast<int>(estimate));
    if (ends == Ends::kSomeOverrun && pick(0, 2) == 0) actual = estimate + pick(1, 200);
    s.jobs.push_back({spec, runtime, actual});
  }
  return s;
}

// Runs passes forward in time: start what a pass starts, advance to the next end, repeat.
// Checks that no pass over-allocates a node and, when `promises` holds, that no job starts
// later than the first reservation it was given. Returns the number of jobs started.
int Simulate(uint32_t seed, BackfillMode mode, Ends ends, bool promises) {
  Sim sim = RandomSim(seed, ends);
  const BackfillConfig cfg{mode, 1000000, kSimDefaultRuntime, {}};
  std::string ctx = std::string(mode == BackfillMode::kEasy ? "easy" : "conservative") +
                    (ends == Ends::kAsEstimated ? ", as estimated"
                     : ends == Ends::kEarly     ? ", early"
                                                : ", overrun") +
                    ", seed " + std::to_string(seed);
  std::vector<NodeView> free = sim.nodes;
  std::vector<RunningJob> running;
  std::vector<TimeMs> ends_at;  // actual end of running[i]
  std::vector<JobId> pending;
  for (size_t i = 0; i < sim.jobs.size(); ++i) pending.push_back(static_cast<JobId>(i + 1));
  std::map<JobId, TimeMs> promised;
  std::map<JobId, Reservation> held;  // the previous pass's reservations, handed back
  TimeMs now = 0;
  int started = 0;
  BackfillResult r;
  for (int pass = 0; pass < 1000; ++pass) {
    std::vector<PendingJob> queue;
    for (JobId id : pending) {
      auto h = held.find(id);
      queue.push_back({id, &sim.jobs[id - 1].spec, sim.jobs[id - 1].runtime,
                       h == held.end() ? nullptr : &h->second});
    }
    r = Backfill(now, free, running, queue, cfg);
    held.clear();
    for (const Reservation& v : r.reservations) held.emplace(v.id, v);
    EXPECT_EQ(r.starts.size() + r.reasons.size(), queue.size()) << ctx;
    if (mode == BackfillMode::kEasy) {
      EXPECT_LE(r.reservations.size(), 1u) << ctx;
    }
    for (const Reservation& v : r.reservations) {
      EXPECT_GT(v.start, now) << ctx;
      promised.try_emplace(v.id, v.start);
    }
    for (const StartDecision& d : r.starts) {
      const SimJob& j = sim.jobs[d.id - 1];
      if (!Reserve(d.alloc, &free)) {
        ADD_FAILURE() << ctx << ": job " << d.id << " over-allocates at " << now << ": "
                      << Where(d.alloc);
        return started;
      }
      for (size_t c = 0; c < j.spec.NumComponents(); ++c) {
        std::vector<std::string> on;
        for (const auto& a : d.alloc)
          if (a.component == static_cast<int32_t>(c)) on.push_back(a.node);
        std::sort(on.begin(), on.end());
        EXPECT_EQ(std::unique(on.begin(), on.end()) - on.begin(), j.spec.Component(c).nodes)
            << ctx << ": job " << d.id << " component " << c << ": " << Where(d.alloc);
      }
      auto p = promised.find(d.id);
      if (promises && p != promised.end()) {
        EXPECT_LE(now, p->second) << ctx << ": job " << d.id << " was promised " << p->second;
      }
      running.push_back({d.id, d.alloc, now + (j.runtime > 0 ? j.runtime : kSimDefaultRuntime)});
      ends_at.push_back(now + j.actual);
      std::erase(pending, d.id);
      ++started;
    }
    if (running.empty()) break;
    now = *std::min_element(ends_at.begin(), ends_at.end());
    for (size_t i = running.size(); i-- > 0;) {
      if (ends_at[i] > now) continue;
      Unreserve(running[i].alloc, &free);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      ends_at.erase(ends_at.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  // What never started is what no up node could hold, or a hetjob whose components each fit
  // but not all together: CheckFeasible (fit.h) checks them one at a time, so it waits.
  EXPECT_TRUE(running.empty()) << ctx;
  std::vector<NodeView> idle = sim.nodes;
  for (JobId id : pending) {
    auto why =
        std::find_if(r.reasons.begin(), r.reasons.end(), [&](auto& w) { return w.first == id; });
    if (why == r.reasons.end()) {
      ADD_FAILURE() << ctx << ": job " << id << " has no reason";
      continue;
    }
    if (why->second.rfind("ReqNodeNotAvail", 0) == 0) continue;
    const JobSpec& spec = sim.jobs[id - 1].spec;
    EXPECT_TRUE(!spec.het.empty() && PlaceJob(spec, idle).kind != Placement::Kind::kPlaced)
        << ctx << ": job " << id << " never started: " << why->second;
    EXPECT_EQ(why->second, "Resources") << ctx << ": job " << id;
  }
  return started;
}

// Unless running jobs overrun their estimates, every promise holds: each conservative
// reservation (handed back to the next pass as PendingJob::held), and the EASY one.
TEST(BackfillProperty, ReservationsHoldUnlessJobsOverrun) {
  for (BackfillMode mode : {BackfillMode::kEasy, BackfillMode::kConservative}) {
    for (Ends ends : {Ends::kAsEstimated, Ends::kEarly}) {
      int started = 0;
      for (uint32_t seed = 1; seed <= 200; ++seed) started += Simulate(seed, mode, ends, true);
      EXPECT_GT(started, 2000);
    }
  }
}

// However jobs end, no node is ever over-allocated and every job that can run, runs.
TEST(BackfillProperty, NeverOverAllocates) {
  for (BackfillMode mode : {BackfillMode::kEasy, BackfillMode::kConservative}) {
    for (Ends ends : {Ends::kEarly, Ends::kSomeOverrun}) {
      for (uint32_t seed = 1; seed <= 200; ++seed) Simulate(seed, mode, ends, false);
    }
  }
}

}  // namespace
}  // namespace corral::sched
