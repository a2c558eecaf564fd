// The availability profile: the skyline it builds, reserve/unreserve balance, GPUs free
// throughout an interval, and EarliestStart against a brute force over every change point.
#include "sched/core/profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

constexpr TimeMs kNow = 100;

NodeProfile Node(const std::string& name, int cpus, int64_t mem, int gpus = 0,
                 const std::string& model = "h100") {
  NodeProfile p;
  p.name = name;
  p.cpus = cpus;
  p.mem_mib = mem;
  for (int i = 0; i < gpus; ++i) p.gpus.push_back({i, model, 81920, i < gpus / 2 ? 0 : 1, ""});
  return p;
}

JobSpec Job(int nodes, int ntasks, int cpt, int64_t mem = 0, int gpus = 0,
            const std::string& model = "") {
  JobSpec s;
  s.nodes = nodes;
  s.ntasks = ntasks;
  s.cpus_per_task = cpt;
  s.mem_mib = mem;
  s.gpus = gpus;
  s.gpu_model = model;
  return s;
}

NodeAllocation On(const std::string& node, int cpus, int64_t mem = 0,
                  std::vector<int32_t> gpus = {}) {
  NodeAllocation a;
  a.node = node;
  a.cpus = cpus;
  a.mem_mib = mem;
  a.gpu_indices = std::move(gpus);
  return a;
}

using testing::Where;

TEST(Profile, SkylineFromFreeNowAndRunningJobs) {
  NodeView v = NodeView::Idle(Node("n1", 8, 1000, 2));
  v.free_cpus = 2;
  v.free_mem_mib = 200;
  v.gpu_free = {false, true};
  AvailabilityProfile p(kNow, {v},
                        {{1, {On("n1", 4, 500, {0})}, 300}, {2, {On("n1", 2, 300)}, 200}});
  EXPECT_EQ(p.ChangePoints(), (std::vector<TimeMs>{100, 200, 300}));
  struct {
    TimeMs from, to;
    int cpus;
    int64_t mem;
    std::vector<bool> gpus;
  } want[] = {{100, 150, 2, 200, {false, true}},
              {200, 250, 4, 500, {false, true}},
              {300, 400, 8, 1000, {true, true}},
              {150, 350, 2, 200, {false, true}}};
  for (const auto& w : want) {
    auto f = p.FreeThroughout(w.from, w.to);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].free_cpus, w.cpus) << w.from << ".." << w.to;
    EXPECT_EQ(f[0].free_mem_mib, w.mem) << w.from << ".." << w.to;
    EXPECT_EQ(f[0].gpu_free, w.gpus) << w.from << ".." << w.to;
  }
}

TEST(Profile, OverdueJobsEndAtNowPlusOneAndDownNodesAreLeftOut) {
  NodeView busy = NodeView::Idle(Node("n1", 8, 0));
  busy.free_cpus = 0;
  NodeView down = NodeView::Idle(Node("n2", 8, 0));
  down.up = false;
  AvailabilityProfile p(kNow, {busy, down}, {{1, {On("n1", 8), On("n2", 8)}, 50}});
  EXPECT_EQ(p.ChangePoints(), (std::vector<TimeMs>{100, 101}));
  ASSERT_EQ(p.UpProfiles().size(), 1u);
  EXPECT_FALSE(p.PlaceAt(Job(1, 1, 1), kNow, kNow + 10));
  auto slot = p.EarliestStart(Job(1, 1, 8), 10, kNow, kNow + 1000);
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->start, 101);
  EXPECT_EQ(Where(slot->alloc), "n1");
}

TEST(Profile, ReserveAndUnreserveBalanceExactly) {
  AvailabilityProfile p(kNow, {NodeView::Idle(Node("n1", 8, 1000, 2))}, {});
  auto before = p.FreeThroughout(kNow, kForever);
  Allocation a{On("n1", 3, 400, {1})};
  ASSERT_TRUE(p.Reserve(a, 200, 300));
  EXPECT_EQ(p.FreeThroughout(kNow, 200)[0].free_cpus, 8);
  EXPECT_EQ(p.FreeThroughout(200, 300)[0].free_cpus, 5);
  EXPECT_EQ(p.FreeThroughout(250, 260)[0].gpu_free, (std::vector<bool>{true, false}));
  EXPECT_EQ(p.FreeThroughout(300, 301)[0].free_mem_mib, 1000);
  // Two entries on one node that do not fit together fail, and change nothing.
  auto mid = p.FreeThroughout(kNow, kForever);
  EXPECT_FALSE(p.Reserve({On("n1", 3), On("n1", 3)}, 150, 250));
  EXPECT_FALSE(p.Reserve({On("n1", 1, 0, {1})}, 250, 400));  // GPU 1 is taken at 250
  EXPECT_FALSE(p.Reserve({On("n9", 1)}, 150, 250));          // no such node
  for (TimeMs t : {100, 150, 200, 250, 300}) {
    EXPECT_EQ(p.FreeThroughout(t, t + 1)[0].free_cpus, t >= 200 && t < 300 ? 5 : 8) << t;
  }
  EXPECT_EQ(p.FreeThroughout(kNow, kForever)[0].free_cpus, mid[0].free_cpus);
  p.Unreserve(a, 200, 300);
  for (TimeMs t : {100, 200, 250, 300}) {
    auto f = p.FreeThroughout(t, t + 1);
    EXPECT_EQ(f[0].free_cpus, before[0].free_cpus);
    EXPECT_EQ(f[0].free_mem_mib, before[0].free_mem_mib);
    EXPECT_EQ(f[0].gpu_free, before[0].gpu_free);
  }
}

// A GPU must be free for the whole interval: GPU 0 is free now but reserved from 200, GPU 1 is
// busy until 200, so no single GPU is free over [100, 400); from 200 GPU 1 is.
TEST(Profile, GpusMustBeFreeThroughout) {
  NodeView v = NodeView::Idle(Node("g1", 8, 0, 2));
  v.free_cpus = 7;
  v.gpu_free = {true, false};
  AvailabilityProfile p(kNow, {v}, {{1, {On("g1", 1, 0, {1})}, 200}});
  ASSERT_TRUE(p.Reserve({On("g1", 1, 0, {0})}, 200, 400));
  JobSpec one = Job(1, 1, 1, 0, 1);
  EXPECT_FALSE(p.PlaceAt(one, kNow, kNow + 300));
  auto slot = p.EarliestStart(one, 300, kNow, kNow + 10000);
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->start, 200);
  EXPECT_EQ(Where(slot->alloc), "g1[1]");
  // Short enough to end before the reservation: GPU 0 now.
  auto now = p.PlaceAt(one, kNow, 200);
  ASSERT_TRUE(now);
  EXPECT_EQ(Where(*now), "g1[0]");
}

// "a|b" takes GPUs of either model: the mask is the union of the alternatives' masks.
TEST(Profile, EitherModelUsesTheUnionOfItsModels) {
  NodeView h = NodeView::Idle(Node("h1", 8, 0, 2, "h100"));
  NodeView a = NodeView::Idle(Node("a1", 8, 0, 2, "a100"));
  h.free_cpus = 7;
  h.gpu_free = {false, false};
  AvailabilityProfile p(kNow, {h, a}, {{1, {On("h1", 1, 0, {0, 1})}, 500}});
  auto now = p.PlaceAt(Job(1, 1, 1, 0, 2, "h100|a100"), kNow, kNow + 100);
  ASSERT_TRUE(now);
  EXPECT_EQ(Where(*now), "a1[0,1]");
  EXPECT_FALSE(p.PlaceAt(Job(1, 1, 1, 0, 2, "h100"), kNow, kNow + 100));
  EXPECT_FALSE(p.PlaceAt(Job(1, 1, 1, 0, 1, "b200|v100"), kNow, kNow + 100));
  ASSERT_TRUE(p.Reserve(*now, kNow, 1000));
  // Both nodes taken: the earliest start is when h1's GPUs come back, at 500.
  auto slot = p.EarliestStart(Job(1, 1, 1, 0, 2, "b200|h100"), 100, kNow, kNow + 10000);
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->start, 500);
  EXPECT_EQ(Where(slot->alloc), "h1[0,1]");
}

TEST(Profile, NoStartWithinTheWindow) {
  NodeView v = NodeView::Idle(Node("n1", 8, 0));
  v.free_cpus = 0;
  AvailabilityProfile p(kNow, {v}, {{1, {On("n1", 8)}, 5000}});
  EXPECT_FALSE(p.EarliestStart(Job(1, 1, 1), 10, kNow, 4999));
  auto slot = p.EarliestStart(Job(1, 1, 1), 10, kNow, 5000);
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->start, 5000);
}

// EarliestStart against the definition: the first of `from` and the change points after it at
// which PlaceJob places the job on what is free throughout [t, t + duration), with the same
// allocation, on random profiles with random reservations, plain and heterogeneous jobs.
TEST(Profile, EarliestStartMatchesABruteForceOverChangePoints) {
  std::mt19937 rng(20240611);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<NodeView> nodes;
    int n = pick(1, 6);
    for (int i = 0; i < n; ++i) {
      int gpus = pick(0, 2) == 0 ? 2 * pick(1, 2) : 0;
      NodeView v = NodeView::Idle(Node("n" + std::to_string(i), 4 * pick(1, 4), 1000 * pick(1, 4),
                                       gpus, pick(0, 1) ? "h100" : "a100"));
      v.up = pick(0, 9) != 0;
      nodes.push_back(v);
    }
    AvailabilityProfile p(kNow, nodes, {});
    // Random reservations stand in for running jobs and earlier decisions.
    for (int r = 0; r < pick(0, 12); ++r) {
      const NodeView& v = nodes[pick(0, n - 1)];
      std::vector<int32_t> g;
      for (size_t k = 0; k < v.profile.gpus.size(); ++k)
        if (pick(0, 2) == 0) g.push_back(static_cast<int32_t>(k));
      TimeMs s = kNow + 10 * pick(0, 30);
      p.Reserve({On(v.profile.name, pick(1, v.profile.cpus), 250 * pick(0, 3), g)}, s,
                s + 10 * pick(1, 30));
    }
    JobSpec spec = Job(pick(1, 3), 0, pick(1, 4), 250 * pick(0, 4));
    spec.ntasks = spec.nodes * pick(1, 2);
    if (pick(0, 2) == 0) spec.gpus = pick(1, 3), spec.gpu_model = pick(0, 1) ? "h100" : "";
    if (pick(0, 4) == 0) spec.het.push_back({pick(1, 2), 2, pick(1, 3), 0, "", 0, 0});
    TimeMs duration = 5 * pick(1, 80);
    TimeMs from = kNow + pick(0, 1) * 5 * pick(0, 20);
    TimeMs latest = kNow + 10 * pick(0, 60);

    std::optional<Slot> want;
    std::vector<TimeMs> times{from};
    for (TimeMs t : p.ChangePoints())
      if (t > from) times.push_back(t);
    for (TimeMs t : times) {
      if (t > latest) break;
      Placement pl = PlaceJob(spec, p.FreeThroughout(t, t + duration));
      if (pl.kind == Placement::Kind::kPlaced) {
        want = Slot{t, pl.alloc};
        break;
      }
    }
    auto got = p.EarliestStart(spec, duration, from, latest);
    ASSERT_EQ(got.has_value(), want.has_value()) << "trial " << trial;
    if (!got) continue;
    EXPECT_EQ(got->start, want->start) << "trial " << trial;
    EXPECT_EQ(Where(got->alloc), Where(want->alloc)) << "trial " << trial;
    auto at = p.PlaceAt(spec, got->start, got->start + duration);
    ASSERT_TRUE(at) << "trial " << trial;
    EXPECT_EQ(Where(*at), Where(got->alloc)) << "trial " << trial;
  }
}

// PlaceAt chooses what PlaceJob chooses on what is free throughout the interval: the same
// nodes, GPUs, CPUs and memory, at now and later, after reservations taken and given back.
TEST(Profile, PlaceAtMatchesPlaceJobOnWhatIsFreeThroughout) {
  std::mt19937 rng(20261202);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto shown = [](const Allocation& a) {
    std::string out;
    for (const NodeAllocation& x : a) {
      out += x.node + ":" + std::to_string(x.cpus) + ":" + std::to_string(x.mem_mib) + ":" +
             std::to_string(x.component) + "[";
      for (int32_t g : x.gpu_indices) out += std::to_string(g) + ",";
      out += "] ";
    }
    return out;
  };
  int placed = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    std::vector<NodeView> nodes;
    int n = pick(1, 12);
    for (int i = 0; i < n; ++i) {
      int gpus = pick(0, 2) == 0 ? 2 * pick(1, 4) : 0;
      NodeView v = NodeView::Idle(Node("n" + std::to_string(i), 4 * pick(1, 4), 1000 * pick(1, 4),
                                       gpus, pick(0, 1) ? "h100" : "a100"));
      v.up = pick(0, 9) != 0;
      nodes.push_back(v);
    }
    AvailabilityProfile p(kNow, nodes, {});
    std::vector<std::pair<Allocation, std::pair<TimeMs, TimeMs>>> taken;
    for (int r = 0; r < pick(0, 16); ++r) {
      const NodeView& v = nodes[pick(0, n - 1)];
      std::vector<int32_t> g;
      for (size_t k = 0; k < v.profile.gpus.size(); ++k)
        if (pick(0, 2) == 0) g.push_back(static_cast<int32_t>(k));
      TimeMs s = pick(0, 1) ? kNow : kNow + 10 * pick(0, 30);
      Allocation a{On(v.profile.name, pick(1, v.profile.cpus), 250 * pick(0, 3), g)};
      TimeMs e = s + 10 * pick(1, 30);
      if (p.Reserve(a, s, e)) taken.push_back({a, {s, e}});
    }
    // Some are given back: nodes whose CPUs were all taken at now come back.
    for (const auto& [a, w] : taken) {
      if (pick(0, 2) == 0) p.Unreserve(a, w.first, w.second);
    }
    JobSpec spec = Job(pick(1, 3), 0, pick(1, 4), 250 * pick(0, 4));
    spec.ntasks = spec.nodes * pick(1, 2);
    if (pick(0, 2) == 0) spec.gpus = pick(1, 3), spec.gpu_model = pick(0, 1) ? "h100" : "";
    if (pick(0, 5) == 0) spec.het.push_back({pick(1, 2), 2, pick(1, 3), 0, "", 0, 0});
    TimeMs start = pick(0, 1) ? kNow : kNow + 10 * pick(0, 40);
    TimeMs end = start + 5 * pick(1, 80);
    Placement want = PlaceJob(spec, p.FreeThroughout(start, end));
    auto got = p.PlaceAt(spec, start, end);
    ASSERT_EQ(got.has_value(), want.kind == Placement::Kind::kPlaced) << "trial " << trial;
    if (!got) continue;
    ++placed;
    EXPECT_EQ(shown(*got), shown(want.alloc)) << "trial " << trial;
  }
  EXPECT_GT(placed, 300);
}

// GPUs on several nodes are of one model: the earliest start is when enough nodes of one model
// are free, not when enough nodes of any model are.
TEST(Profile, MultiNodeGpuJobsWaitForNodesOfOneModel) {
  std::vector<NodeView> nodes = {
      NodeView::Idle(Node("h0", 8, 0, 2)), NodeView::Idle(Node("a0", 8, 0, 2, "a100")),
      NodeView::Idle(Node("a1", 8, 0, 2, "a100")), NodeView::Idle(Node("h1", 8, 0, 2))};
  Allocation h1{On("h1", 1, 0, {0, 1})}, a1{On("a1", 1, 0, {0, 1})};
  ASSERT_TRUE(Reserve(h1, &nodes) && Reserve(a1, &nodes));
  AvailabilityProfile p(kNow, nodes, {{1, h1, 300}, {2, a1, 200}});
  for (const char* model : {"", "a100|h100"}) {
    JobSpec two = Job(2, 2, 1, 0, 4, model);
    EXPECT_FALSE(p.PlaceAt(two, kNow, kNow + 10)) << "h0 and a0 are free, of two models";
    std::optional<Slot> s = p.EarliestStart(two, 50, kNow, 10000);
    ASSERT_TRUE(s) << model;
    EXPECT_EQ(s->start, 200) << "a1 frees at 200, h1 at 300: the a100 pair";
    EXPECT_EQ(Where(s->alloc), "a0[0,1] a1[0,1]") << model;
  }
}

}  // namespace
}  // namespace corral::sched
