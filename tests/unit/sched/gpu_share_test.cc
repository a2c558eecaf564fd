// Shares of one GPU (--gpus=t4:0.5): where Place puts them, that the rest of the GPU stays
// usable, that no GPU is ever over-committed (a property test against a tally), and that the
// availability profile plans them exactly as Place does on what is free.
#include "sched/core/gpu_share.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "sched/core/profile.h"

namespace corral::sched {
namespace {

NodeProfile Node(const std::string& name, int cpus, int gpus, const std::string& model = "t4") {
  NodeProfile p;
  p.name = name;
  p.cpus = cpus;
  p.mem_mib = 64000;
  for (int i = 0; i < gpus; ++i) p.gpus.push_back({i, model, 16384, 0, ""});
  return p;
}

JobSpec Share(int32_t milli, const std::string& model = "") {
  JobSpec s;
  s.gpus = 1;
  s.gpu_milli = milli;
  s.gpu_model = model;
  return s;
}

JobSpec Whole(int32_t gpus) {
  JobSpec s;
  s.gpus = gpus;
  return s;
}

// Places and reserves; the node and GPU it went to ("" when not placed).
std::string Take(const JobSpec& s, std::vector<NodeView>* nodes, Allocation* out = nullptr) {
  Placement p = Place(s, *nodes);
  if (p.kind != Placement::Kind::kPlaced) return "";
  EXPECT_TRUE(Reserve(p.alloc, nodes));
  if (out) *out = p.alloc;
  const NodeAllocation& a = p.alloc.front();
  std::string g;
  for (int32_t i : a.gpu_indices) g += (g.empty() ? "" : ",") + std::to_string(i);
  return a.node + ":" + g;
}

TEST(GpuShare, AShareLeavesTheRestOfItsGpuUsable) {
  std::vector<NodeView> nodes = {NodeView::Idle(Node("a", 8, 1))};
  Allocation half;
  EXPECT_EQ(Take(Share(500), &nodes, &half), "a:0");
  EXPECT_EQ(half.front().gpu_milli, 500);
  EXPECT_FALSE(nodes[0].gpu_free[0]);
  EXPECT_EQ(GpuUsedMilli(nodes[0], 0), 500);
  EXPECT_EQ(Place(Whole(1), nodes).kind, Placement::Kind::kNotNow) << "half is taken";
  EXPECT_EQ(Take(Share(300), &nodes), "a:0") << "the rest of the GPU";
  EXPECT_EQ(Take(Share(201), &nodes), "") << "0.2 is left, not 0.201";
  EXPECT_EQ(Take(Share(200), &nodes), "a:0");
  EXPECT_EQ(GpuUsedMilli(nodes[0], 0), kWholeGpu);
  Unreserve(half, &nodes);
  EXPECT_EQ(GpuUsedMilli(nodes[0], 0), 500);
  EXPECT_FALSE(nodes[0].gpu_free[0]);
}

TEST(GpuShare, SharesFillASharedGpuBeforeBreakingAWholeOne) {
  // Node a has a GPU a third shared; b is idle. A share goes on a's shared GPU, best fit among
  // shared ones, and only a share that fits nowhere shared breaks a whole GPU.
  std::vector<NodeView> nodes = {NodeView::Idle(Node("b", 8, 1)), NodeView::Idle(Node("a", 8, 4))};
  Allocation third{{"a", 1, 0, {2}, 0, 333}};
  ASSERT_TRUE(Reserve(third, &nodes));
  Allocation two_thirds{{"a", 1, 0, {3}, 0, 667}};
  ASSERT_TRUE(Reserve(two_thirds, &nodes));
  EXPECT_EQ(Take(Share(300), &nodes), "a:3") << "best fit: 0.333 left on GPU 3";
  EXPECT_EQ(Take(Share(600), &nodes), "a:2") << "0.667 left on GPU 2";
  EXPECT_EQ(Take(Share(500), &nodes), "b:0") << "no shared GPU has room: the node with fewer free";
  EXPECT_EQ(Take(Share(500), &nodes), "b:0") << "the rest of b's GPU";
  EXPECT_EQ(Take(Whole(2), &nodes), "a:0,1") << "whole GPUs stayed whole";
}

TEST(GpuShare, ModelsAndMalformedShares) {
  std::vector<NodeView> nodes = {NodeView::Idle(Node("a", 8, 1, "a10")),
                                 NodeView::Idle(Node("b", 8, 1, "t4"))};
  EXPECT_EQ(Take(Share(250, "t4"), &nodes), "b:0");
  EXPECT_EQ(Take(Share(250, "v100|a10"), &nodes), "a:0");
  std::vector<NodeProfile> profiles = {nodes[0].profile, nodes[1].profile};
  EXPECT_TRUE(CheckFeasible(Share(500), profiles).ok());
  JobSpec two_nodes = Share(500);
  two_nodes.nodes = 2, two_nodes.ntasks = 2;
  JobSpec two_gpus = Share(500);
  two_gpus.gpus = 2;
  const std::pair<JobSpec, const char*> bad[] = {
      {Share(1000), "a share of a GPU must be 0.001 to 0.999"},
      {Share(-1), "a share of a GPU must be 0.001 to 0.999"},
      {two_nodes, "a share of a GPU is of one GPU on one node"},
      {two_gpus, "a share of a GPU is of one GPU on one node"},
      {Share(500, "h100"), "no node has h100 GPUs"},
  };
  for (const auto& [spec, why] : bad) {
    Status st = CheckFeasible(spec, profiles);
    ASSERT_FALSE(st.ok()) << why;
    EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
  }
}

// Random shares and whole GPUs, taken and given back: Reserve refuses exactly what would put a
// GPU over one whole, and the node's view always equals a tally of what is held.
TEST(GpuShare, NoGpuIsEverOverCommitted) {
  std::mt19937 rng(20261203);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<NodeView> nodes = {NodeView::Idle(Node("n", 64, pick(1, 4)))};
    const int gpus = static_cast<int>(nodes[0].profile.gpus.size());
    std::vector<Allocation> held;
    for (int step = 0; step < 60; ++step) {
      if (!held.empty() && pick(0, 2) == 0) {
        const size_t k = static_cast<size_t>(pick(0, static_cast<int>(held.size()) - 1));
        Unreserve(held[k], &nodes);
        held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
      } else if (pick(0, 1) == 0) {  // a share named directly, which Reserve must check
        Allocation a{{"n", 1, 0, {pick(0, gpus - 1)}, 0, pick(1, 9) * 100}};
        std::map<int32_t, int32_t> tally;
        for (const Allocation& h : held) {
          for (int32_t g : h[0].gpu_indices) tally[g] += h[0].gpu_milli ? h[0].gpu_milli : 1000;
        }
        const bool room = tally[a[0].gpu_indices[0]] + a[0].gpu_milli <= kWholeGpu;
        ASSERT_EQ(Reserve(a, &nodes), room) << "trial " << trial << " step " << step;
        if (room) held.push_back(a);
      } else {
        JobSpec s = pick(0, 1) ? Share(pick(1, 999)) : Whole(pick(1, gpus));
        Placement p = Place(s, nodes);
        if (p.kind == Placement::Kind::kPlaced) {
          ASSERT_TRUE(Reserve(p.alloc, &nodes));
          held.push_back(p.alloc);
        }
      }
      std::vector<int32_t> used(static_cast<size_t>(gpus), 0);
      for (const Allocation& h : held) {
        for (int32_t g : h[0].gpu_indices) used[g] += h[0].gpu_milli ? h[0].gpu_milli : 1000;
      }
      for (int g = 0; g < gpus; ++g) {
        ASSERT_LE(used[g], kWholeGpu) << "trial " << trial;
        ASSERT_EQ(GpuUsedMilli(nodes[0], static_cast<size_t>(g)), used[g]) << "trial " << trial;
        ASSERT_EQ(nodes[0].gpu_free[g], used[g] == 0);
      }
    }
  }
}

TEST(GpuShareProfile, SharesOfRunningJobsComeBackAtTheirEnds) {
  constexpr TimeMs kNow = 100;
  std::vector<NodeView> nodes = {NodeView::Idle(Node("a", 16, 1))};
  std::vector<RunningJob> running;
  Allocation quarter{{"a", 1, 0, {0}, 0, 250}}, half{{"a", 1, 0, {0}, 0, 500}};
  ASSERT_TRUE(Reserve(quarter, &nodes));
  ASSERT_TRUE(Reserve(half, &nodes));
  running.push_back({1, quarter, 200});
  running.push_back({2, half, 300});
  AvailabilityProfile p(kNow, nodes, running);
  // A quarter fits now; a half from 200, when the quarter ends; the whole GPU from 300.
  auto at = [&](const JobSpec& s) {
    std::optional<Slot> slot = p.EarliestStart(s, 50, kNow, 10000);
    return slot ? slot->start : -1;
  };
  EXPECT_EQ(at(Share(250)), kNow);
  EXPECT_EQ(at(Share(251)), 200);
  EXPECT_EQ(at(Share(500)), 200);
  EXPECT_EQ(at(Share(501)), 300);
  EXPECT_EQ(at(Whole(1)), 300);
  auto now = p.PlaceAt(Share(250), kNow, kNow + 50);
  ASSERT_TRUE(now);
  EXPECT_EQ((*now)[0].gpu_milli, 250);
  ASSERT_TRUE(p.Reserve(*now, kNow, kNow + 50));
  EXPECT_EQ(at(Share(1)), 150) << "full until the new quarter ends";
  EXPECT_FALSE(p.Reserve(*now, kNow, kNow + 50)) << "a second quarter would over-commit";
  p.Unreserve(*now, kNow, kNow + 50);
  EXPECT_EQ(at(Share(250)), kNow);
  // An advance reservation's block leaves no share either.
  p.Block("a", 400, 500);
  EXPECT_FALSE(p.PlaceAt(Share(1), 400, 450));
}

// What PlaceAt chooses for shares and whole GPUs, among random reservations of both, is what
// PlaceJob chooses on the free views; and Reserve then Unreserve leaves the profile as it was.
TEST(GpuShareProfile, PlanningMatchesPlaceOnWhatIsFree) {
  std::mt19937 rng(20261204);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  constexpr TimeMs kNow = 100;
  int placed_shares = 0;
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<NodeView> nodes;
    const int n = pick(1, 5);
    for (int i = 0; i < n; ++i) {
      nodes.push_back(NodeView::Idle(Node("n" + std::to_string(i), 8, pick(1, 4))));
    }
    AvailabilityProfile p(kNow, nodes, {});
    for (int r = 0; r < pick(0, 20); ++r) {
      const NodeView& v = nodes[pick(0, n - 1)];
      const int g = pick(0, static_cast<int>(v.profile.gpus.size()) - 1);
      Allocation a{{v.profile.name, 1, 0, {g}, 0, pick(0, 1) ? pick(1, 9) * 100 : 0}};
      const TimeMs s = pick(0, 1) ? kNow : kNow + 10 * pick(0, 20);
      p.Reserve(a, s, s + 10 * pick(1, 20));
    }
    JobSpec spec = pick(0, 2) ? Share(pick(1, 999)) : Whole(pick(1, 2));
    const TimeMs start = pick(0, 1) ? kNow : kNow + 10 * pick(0, 25);
    const TimeMs end = start + 5 * pick(1, 40);
    Placement want = PlaceJob(spec, p.FreeThroughout(start, end));
    auto got = p.PlaceAt(spec, start, end);
    ASSERT_EQ(got.has_value(), want.kind == Placement::Kind::kPlaced) << "trial " << trial;
    if (!got) continue;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].node, want.alloc[0].node) << "trial " << trial;
    EXPECT_EQ((*got)[0].gpu_indices, want.alloc[0].gpu_indices) << "trial " << trial;
    EXPECT_EQ((*got)[0].gpu_milli, want.alloc[0].gpu_milli) << "trial " << trial;
    placed_shares += spec.gpu_milli > 0;
    std::vector<NodeView> before = p.FreeThroughout(start, end);
    ASSERT_TRUE(p.Reserve(*got, start, end)) << "trial " << trial;
    p.Unreserve(*got, start, end);
    std::vector<NodeView> after = p.FreeThroughout(start, end);
    for (size_t i = 0; i < before.size(); ++i) {
      EXPECT_EQ(before[i].gpu_free, after[i].gpu_free) << "trial " << trial;
      EXPECT_EQ(before[i].gpu_milli_used, after[i].gpu_milli_used) << "trial " << trial;
    }
  }
  EXPECT_GT(placed_shares, 100);
}

}  // namespace
}  // namespace corral::sched
