// Partitions and advance reservations in a pass (schedule.h): where each job may run, what
// holds it back, and the exact start time and nodes of every job.
#include <gtest/gtest.h>

#include <map>

#include "sched/core/schedule.h"
#include "tests/unit/sched/where.h"

namespace corral::sched {
namespace {

using testing::CpuNode;
using testing::Where;

Partition Part(const std::string& name, std::vector<std::string> nodes, int32_t tier = 1) {
  Partition p;
  p.name = name;
  p.nodes = std::move(nodes);
  p.priority_tier = tier;
  return p;
}

JobSpec Job(int ntasks, TimeMs limit, const std::string& partition = "") {
  JobSpec s;
  s.ntasks = ntasks;
  s.time_limit_ms = limit;
  s.partition = partition;
  s.user = "u";
  s.account = "a";
  return s;
}

std::map<JobId, std::string> Starts(const Decisions& d) {
  std::map<JobId, std::string> out;
  for (const auto& s : d.starts) out[s.id] = Where(s.alloc);
  return out;
}

std::map<JobId, std::string> Reasons(const Decisions& d) {
  return {d.reasons.begin(), d.reasons.end()};
}

std::map<JobId, TimeMs> Planned(const Decisions& d) {
  std::map<JobId, TimeMs> out;
  for (const auto& r : d.reservations) out[r.id] = r.start;
  return out;
}

TEST(GlobMatch, Patterns) {
  EXPECT_TRUE(GlobMatch("gpu*", "gpu12"));
  EXPECT_TRUE(GlobMatch("gpu*", "gpu"));
  EXPECT_TRUE(GlobMatch("n?", "n1"));
  EXPECT_FALSE(GlobMatch("n?", "n12"));
  EXPECT_TRUE(GlobMatch("*-0", "h100-0"));
  EXPECT_FALSE(GlobMatch("*-0", "h100-1"));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
  EXPECT_TRUE(GlobMatch("cpu1", "cpu1"));
  EXPECT_FALSE(GlobMatch("cpu1", "cpu10"));
}

TEST(CheckPartition, HostileValuesNameTheField) {
  struct Case {
    std::function<void(Partition&)> change;
    std::string error;
  };
  const std::vector<Case> cases = {
      {[](Partition& p) { p.name = ""; }, "name:"},
      {[](Partition& p) { p.name = "a b"; }, "name:"},
      {[](Partition& p) { p.nodes.clear(); }, "nodes: must name"},
      {[](Partition& p) { p.nodes = {"n;rm"}; }, "nodes: \"n;rm\""},
      {[](Partition& p) { p.max_time_ms = -5; }, "max-time:"},
      {[](Partition& p) { p.default_time_ms = 0; }, "default-time:"},
      {[](Partition& p) { p.max_time_ms = 1000, p.default_time_ms = 2000; },
       "default-time: must not exceed max-time"},
      {[](Partition& p) { p.max_nodes = 0; }, "max-nodes:"},
      {[](Partition& p) { p.priority_tier = -1; }, "priority-tier:"},
      {[](Partition& p) { p.grace_ms = -1; }, "grace-time:"},
      {[](Partition& p) { p.accounts = {""}; }, "accounts:"},
  };
  for (const Case& c : cases) {
    Partition p = Part("p", {"n1"});
    ASSERT_EQ(CheckPartition(p), "");
    c.change(p);
    EXPECT_EQ(CheckPartition(p).rfind(c.error, 0), 0u) << CheckPartition(p) << " / " << c.error;
  }
}

TEST(SchedulePartitions, JobsRunOnlyOnTheirPartitionsNodes) {
  SchedulerState st;
  st.now = 1000;
  st.nodes = {CpuNode("c1", 4), CpuNode("c2", 4), CpuNode("g1", 4)};
  st.partitions = {Part("cpu", {"c*"}), Part("gpu", {"g1"})};
  st.partitions[0].is_default = true;
  // g1 is the best fit for a 3-CPU job everywhere, but job 1 is in cpu; job 2 in gpu takes g1;
  // job 3 (gpu) finds g1 taken and waits although c1 and c2 have room.
  JobSpec a = Job(3, 10000), b = Job(4, 10000, "gpu"), c = Job(1, 10000, "gpu");
  st.pending = {{1, &a, {}, nullptr}, {2, &b, {}, nullptr}, {3, &c, {}, nullptr}};
  Decisions d = Schedule(st, {});
  auto starts = Starts(d);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[1].substr(0, 1), "c");
  EXPECT_EQ(starts[2], "g1");
  EXPECT_EQ(Reasons(d)[3], "Resources");
  EXPECT_EQ(Planned(d)[3], 11000);  // when job 2 ends
}

TEST(SchedulePartitions, LimitsHoldJobsBackWithSlurmsReasons) {
  SchedulerState st;
  st.now = 0;
  st.nodes = {CpuNode("n1", 4), CpuNode("n2", 4)};
  Partition p = Part("short", {"ALL"});
  p.max_time_ms = 60000;
  p.max_nodes = 1;
  p.accounts = {"a"};
  Partition down = Part("off", {"ALL"});
  down.state = PartitionState::kDown;
  st.partitions = {p, down};
  JobSpec too_long = Job(1, 120000, "short"), unlimited = Job(1, 0, "short");
  JobSpec wide = Job(2, 1000, "short");
  wide.nodes = 2;
  JobSpec other_account = Job(1, 1000, "short");
  other_account.account = "b";
  JobSpec in_down = Job(1, 1000, "off"), unknown = Job(1, 1000, "gone"), ok = Job(1, 1000);
  st.pending = {{1, &too_long, {}, nullptr}, {2, &unlimited, {}, nullptr},
                {3, &wide, {}, nullptr},     {4, &other_account, {}, nullptr},
                {5, &in_down, {}, nullptr},  {6, &unknown, {}, nullptr},
                {7, &ok, {}, nullptr}};
  Decisions d = Schedule(st, {});
  auto why = Reasons(d);
  EXPECT_EQ(why[1], "PartitionTimeLimit");
  EXPECT_EQ(why[2], "PartitionTimeLimit");
  EXPECT_EQ(why[3], "PartitionNodeLimit");
  EXPECT_EQ(why[4], "AccountNotAllowed");
  EXPECT_EQ(why[5], "PartitionDown");
  EXPECT_EQ(why[6], "PartitionDown");
  ASSERT_EQ(d.starts.size(), 1u);  // job 7 goes to the default (first) partition
  EXPECT_EQ(d.starts[0].id, 7);
}

TEST(SchedulePartitions, AHigherTierIsScheduledFirst) {
  SchedulerState st;
  st.now = 10 * 24 * 3600 * 1000LL;
  st.nodes = {CpuNode("n1", 4)};
  st.partitions = {Part("low", {"n1"}, 1), Part("high", {"n1"}, 5)};
  JobSpec old_low = Job(4, 1000, "low"), new_high = Job(4, 1000, "high");
  st.pending = {{1, &old_low, {}, nullptr}, {2, &new_high, {}, nullptr}};
  st.pending[0].priority.eligible_ms = 0;  // waited ten days: the higher priority
  st.pending[1].priority.eligible_ms = st.now;
  Decisions d = Schedule(st, {});
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(d.starts[0].id, 2);
}

TEST(SchedulePartitions, EasyProtectsTheFirstWaitingJobOfEachPartition) {
  SchedulerState st;
  st.now = 0;
  st.nodes = {CpuNode("a1", 4), CpuNode("a2", 4), CpuNode("b1", 4), CpuNode("b2", 4)};
  st.partitions = {Part("a", {"a*"}), Part("b", {"b*"})};
  // One node of each partition is busy until 100 s; each partition has a wide job waiting.
  st.running.push_back({90, {{"a1", 4, 0, {}, 0}}, 100000});
  st.running.push_back({91, {{"b1", 4, 0, {}, 0}}, 100000});
  st.nodes[0].free_cpus = 0;
  st.nodes[2].free_cpus = 0;
  JobSpec wa = Job(8, 50000, "a"), wb = Job(8, 50000, "b");
  wa.nodes = wb.nodes = 2;
  // Long small jobs that would take a2 / b2 past 100 s: neither may start.
  JobSpec la = Job(4, 200000, "a"), lb = Job(4, 200000, "b");
  st.pending = {
      {1, &wa, {}, nullptr}, {2, &wb, {}, nullptr}, {3, &la, {}, nullptr}, {4, &lb, {}, nullptr}};
  Decisions d = Schedule(st, {});
  EXPECT_TRUE(d.starts.empty());
  auto planned = Planned(d);
  EXPECT_EQ(planned[1], 100000);
  EXPECT_EQ(planned[2], 100000);  // not "Priority" behind partition a's job
  auto why = Reasons(d);
  EXPECT_EQ(why[2], "Resources");
  EXPECT_EQ(why[3], "Priority");
  EXPECT_EQ(why[4], "Priority");
}

TEST(SchedulePartitions, BackfillModeIsPerPartition) {
  SchedulerState st;
  st.now = 0;
  st.nodes = {CpuNode("a1", 4), CpuNode("b1", 4)};
  st.partitions = {Part("a", {"a1"}), Part("b", {"b1"})};
  st.partitions[1].backfill = BackfillMode::kConservative;
  st.running.push_back({90, {{"a1", 4, 0, {}, 0}}, 100000});
  st.running.push_back({91, {{"b1", 4, 0, {}, 0}}, 100000});
  st.nodes[0].free_cpus = st.nodes[1].free_cpus = 0;
  std::vector<JobSpec> s = {Job(4, 1000, "a"), Job(4, 1000, "a"), Job(4, 1000, "b"),
                            Job(4, 1000, "b")};
  for (JobId i = 0; i < 4; ++i) st.pending.push_back({i + 1, &s[i], {}, nullptr});
  Decisions d = Schedule(st, {});
  auto planned = Planned(d);
  EXPECT_EQ(planned.count(1), 1u);
  EXPECT_EQ(planned.count(2), 0u);  // EASY: one reservation in a
  EXPECT_EQ(planned[3], 100000);    // conservative: every job of b
  EXPECT_EQ(planned[4], 101000);
}

TEST(PartitionList, SplitsAtCommasDroppingEmptyAndRepeatedNames) {
  EXPECT_EQ(PartitionList("a,,b,a,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(PartitionList("gpu"), (std::vector<std::string>{"gpu"}));
  EXPECT_TRUE(PartitionList("").empty());
  EXPECT_TRUE(PartitionList(",,").empty());
  std::vector<Partition> parts = {Part("low", {"ALL"}, 1), Part("high", {"ALL"}, 3)};
  EXPECT_EQ(TopPartition(parts, "low,high")->name, "high");
  EXPECT_EQ(TopPartition(parts, "low,gone")->name, "low");
  EXPECT_EQ(TopPartition(parts, "gone"), nullptr);
  auto in = JobPartitions(parts, "high,gone,low");
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0]->name, "high");
  EXPECT_EQ(in[1], nullptr);
  EXPECT_EQ(in[2]->name, "low");
}

// -p a,b: the job starts in the first listed partition with room now, else it is planned in
// the one where it can start soonest, and the decision names the partition.
TEST(SchedulePartitions, AJobOfSeveralPartitionsTakesTheOneThatStartsItFirst) {
  SchedulerState st;
  st.now = 0;
  st.nodes = {CpuNode("a1", 4), CpuNode("b1", 4)};
  st.partitions = {Part("a", {"a1"}), Part("b", {"b1"})};
  // Both free: the first listed.
  JobSpec both = Job(4, 1000, "b,a");
  st.pending = {{1, &both, {}, nullptr}};
  Decisions d = Schedule(st, {});
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(Where(d.starts[0].alloc), "b1");
  EXPECT_EQ(d.starts[0].partition, 1);

  // a1 is busy: it starts in b at once, although a is listed first.
  st.running.push_back({90, {{"a1", 4, 0, {}, 0}}, 100000});
  st.nodes[0].free_cpus = 0;
  JobSpec ab = Job(4, 1000, "a,b");
  st.pending = {{2, &ab, {}, nullptr}};
  d = Schedule(st, {});
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(Where(d.starts[0].alloc), "b1");
  EXPECT_EQ(d.starts[0].partition, 1);

  // Both busy, b until 50 s and a until 100 s: planned in b at 50 s. The reservation holds b
  // only, so the first waiting job of a alone is reserved in a as well.
  st.running.push_back({91, {{"b1", 4, 0, {}, 0}}, 50000});
  st.nodes[1].free_cpus = 0;
  JobSpec a_only = Job(4, 1000, "a");
  st.pending = {{2, &ab, {}, nullptr}, {3, &a_only, {}, nullptr}};
  d = Schedule(st, {});
  EXPECT_TRUE(d.starts.empty());
  ASSERT_EQ(d.reservations.size(), 2u);
  EXPECT_EQ(Planned(d)[2], 50000);
  EXPECT_EQ(Where(d.reservations[0].alloc), "b1");
  EXPECT_EQ(Planned(d)[3], 100000);  // the first waiting job of a: reserved too
  EXPECT_EQ(Reasons(d)[2], "Resources");
}

TEST(SchedulePartitions, AJobOfSeveralPartitionsSkipsThoseThatRefuseIt) {
  SchedulerState st;
  st.now = 0;
  st.nodes = {CpuNode("a1", 4), CpuNode("b1", 4)};
  Partition a = Part("a", {"a1"});
  a.max_time_ms = 500;
  st.partitions = {a, Part("b", {"b1"}, 2)};
  st.partitions[1].max_nodes = 1;
  // Too long for a: it runs in b.
  JobSpec ab = Job(4, 1000, "a,b");
  // Too long for a, too wide for b: it waits with a's reason, the first listed.
  JobSpec wide = Job(8, 1000, "a,b");
  wide.nodes = 2;
  // A partition that is not defined (any more) is skipped too.
  JobSpec gone = Job(1, 100, "gone,a");
  st.pending = {{1, &ab, {}, nullptr}, {2, &wide, {}, nullptr}, {3, &gone, {}, nullptr}};
  Decisions d = Schedule(st, {});
  auto starts = Starts(d);
  EXPECT_EQ(starts[1], "b1");
  EXPECT_EQ(starts[3], "a1");
  EXPECT_EQ(Reasons(d)[2], "PartitionTimeLimit");
  EXPECT_EQ(d.starts.size(), 2u);
}

TEST(SchedulePartitions, AJobOfSeveralPartitionsRanksByItsHighestTier) {
  SchedulerState st;
  st.now = 10 * 24 * 3600 * 1000LL;
  st.nodes = {CpuNode("n1", 4)};
  st.partitions = {Part("low", {"n1"}, 1), Part("high", {"n1"}, 5)};
  JobSpec old_low = Job(4, 1000, "low"), new_either = Job(4, 1000, "low,high");
  st.pending = {{1, &old_low, {}, nullptr}, {2, &new_either, {}, nullptr}};
  st.pending[0].priority.eligible_ms = 0;
  st.pending[1].priority.eligible_ms = st.now;
  Decisions d = Schedule(st, {});
  ASSERT_EQ(d.starts.size(), 1u);
  EXPECT_EQ(d.starts[0].id, 2);
}

TEST(ScheduleReservations, AMaintenanceWindowKeepsJobsThatWouldOverlapIt) {
  SchedulerState st;
  st.now = 0;
  st.nodes = {CpuNode("n1", 4), CpuNode("n2", 4)};
  AdvanceReservation m;
  m.name = "maint";
  m.nodes = {"n1"};
  m.start = 50000, m.end = 80000;
  m.maintenance = true;
  st.advance = {m};
  // Job 1 (both nodes, 60 s) cannot end before the window opens on n1: it waits until the
  // window ends. Job 2 ends before the window: it may take n1. Job 3 would run into it: n2.
  JobSpec before = Job(4, 40000), across = Job(4, 60000), wide = Job(8, 60000);
  wide.nodes = 2;
  st.pending = {{1, &wide, {}, nullptr}, {2, &before, {}, nullptr}, {3, &across, {}, nullptr}};
  Decisions d = Schedule(st, {});
  auto starts = Starts(d);
  EXPECT_EQ(Planned(d)[1], 80000);
  // Job 2 must end by the wide job's start at 80 s, and job 3 too: both start now.
  EXPECT_EQ(starts[2], "n1");
  EXPECT_EQ(starts[3], "n2");
}

TEST(ScheduleReservations, JobsInAReservationRunOnlyThereAndWithinItsWindow) {
  SchedulerState st;
  st.now = 0;
  st.nodes = {CpuNode("n1", 4), CpuNode("n2", 4)};
  AdvanceReservation r;
  r.name = "demo";
  r.nodes = {"n2"};
  r.start = 10000, r.end = 40000;
  r.users = {"alice"};
  st.advance = {r};
  JobSpec in = Job(4, 20000), too_long = Job(4, 35000), outsider = Job(4, 20000),
          deleted = Job(1, 1000);
  in.user = too_long.user = "alice";
  in.reservation = too_long.reservation = outsider.reservation = "demo";
  deleted.reservation = "gone";
  JobSpec plain = Job(4, 20000);  // may use n1 now, never n2 inside the window
  JobSpec plain2 = Job(4, 5000);  // fits on n2 before the window opens
  st.pending = {{1, &in, {}, nullptr},       {2, &too_long, {}, nullptr},
                {3, &outsider, {}, nullptr}, {4, &deleted, {}, nullptr},
                {5, &plain, {}, nullptr},    {6, &plain2, {}, nullptr}};
  Decisions d = Schedule(st, {});
  auto starts = Starts(d), why = Reasons(d);
  auto planned = Planned(d);
  EXPECT_EQ(planned[1], 10000);  // from the window's start, on n2
  EXPECT_EQ(why[1], "Reservation");
  EXPECT_EQ(planned.count(2), 0u);   // 35 s does not fit in a 30 s window
  EXPECT_EQ(why[3], "Reservation");  // not one of its users
  EXPECT_EQ(why[4], "ReservationDeleted");
  EXPECT_EQ(starts[5], "n1");
  EXPECT_EQ(starts[6], "n2");
  for (const auto& res : d.reservations) {
    if (res.id == 1) {
      EXPECT_EQ(Where(res.alloc), "n2");
    }
  }
}

TEST(AdvanceReservations, ChecksAndOverlaps) {
  AdvanceReservation r;
  r.name = "r1";
  r.nodes = {"n1"};
  r.start = 1000, r.end = 2000;
  r.users = {"alice"};
  EXPECT_EQ(CheckReservation(r, 0), "");
  AdvanceReservation bad = r;
  bad.end = 500;
  EXPECT_EQ(CheckReservation(bad, 0), "end: must be after start");
  bad = r;
  bad.users.clear();
  EXPECT_EQ(CheckReservation(bad, 0).rfind("users:", 0), 0u);
  bad = r;
  bad.maintenance = true;
  EXPECT_EQ(CheckReservation(bad, 0).rfind("maintenance:", 0), 0u);
  EXPECT_EQ(CheckReservation(r, 5000).rfind("end: ", 0), 0u);  // has passed
  AdvanceReservation other = r;
  other.name = "r2";
  other.nodes = {"n*"};
  other.start = 1500, other.end = 3000;
  EXPECT_NE(FindOverlap(other, {r}, {"n1", "n2"}).find("reservation r1 holds node n1"),
            std::string::npos);
  other.start = 2000;  // touching windows do not overlap
  EXPECT_EQ(FindOverlap(other, {r}, {"n1", "n2"}), "");
  other.start = 1500;
  other.nodes = {"n2"};
  EXPECT_EQ(FindOverlap(other, {r}, {"n1", "n2"}), "");
  // Nodes not attached yet are compared by name.
  other.nodes = {"n1"};
  EXPECT_NE(FindOverlap(other, {r}, {}), "");
}

}  // namespace
}  // namespace corral::sched
