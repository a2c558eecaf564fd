// The job state machine: which transitions are allowed, and names round-trip.
#include <gtest/gtest.h>

#include "common/job.h"

namespace corral {
namespace {

struct Transition {
  JobState from, to;
  bool allowed;
};

TEST(JobStateMachine, TransitionTable) {
  using S = JobState;
  const Transition table[] = {
      {S::kPending, S::kRunning, true},      {S::kPending, S::kCancelled, true},
      {S::kPending, S::kCompleted, false},   {S::kPending, S::kFailed, false},
      {S::kPending, S::kNodeFail, false},    {S::kPending, S::kPending, false},
      {S::kRunning, S::kCompleted, true},    {S::kRunning, S::kFailed, true},
      {S::kRunning, S::kCancelled, true},    {S::kRunning, S::kTimeout, true},
      {S::kRunning, S::kNodeFail, true},     {S::kRunning, S::kPending, true},
      {S::kRunning, S::kRunning, false},     {S::kCompleted, S::kRunning, false},
      {S::kCompleted, S::kCancelled, false}, {S::kCancelled, S::kRunning, false},
      {S::kFailed, S::kCompleted, false},    {S::kNodeFail, S::kPending, false},
      {S::kTimeout, S::kCompleted, false},
  };
  for (const auto& t : table) {
    EXPECT_EQ(CanTransition(t.from, t.to), t.allowed)
        << JobStateName(t.from) << " -> " << JobStateName(t.to);
  }
}

TEST(JobStateMachine, TerminalStates) {
  EXPECT_FALSE(IsTerminal(JobState::kPending));
  EXPECT_FALSE(IsTerminal(JobState::kRunning));
  for (JobState s :
       {JobState::kCompleted, JobState::kFailed, JobState::kCancelled, JobState::kTimeout,
        JobState::kNodeFail, JobState::kPreempted, JobState::kOutOfMemory}) {
    EXPECT_TRUE(IsTerminal(s)) << JobStateName(s);
  }
}

TEST(JobStateMachine, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(JobState::kLastState); ++i) {
    JobState s = static_cast<JobState>(i), back;
    ASSERT_TRUE(ParseJobState(JobStateName(s), &back));
    EXPECT_EQ(back, s);
  }
  JobState ignored;
  EXPECT_FALSE(ParseJobState("running", &ignored));
  EXPECT_FALSE(ParseJobState("", &ignored));
}

TEST(OutputPattern, Expands) {
  JobSpec s;
  s.name = "train";
  s.user = "ada";
  EXPECT_EQ(ExpandOutputPattern("/o/%x-%j.out", 42, s, "n1"), "/o/train-42.out");
  EXPECT_EQ(ExpandOutputPattern("%A_%a.%u.%N", 7, s, "gpu3"), "7_0.ada.gpu3");
  EXPECT_EQ(ExpandOutputPattern("100%%-%q-%", 1, s, ""), "100%-%q-%");
}

TEST(OutputPattern, ANameOrUserNeverLeavesTheDirectory) {
  JobSpec s;
  s.name = "../../etc/cron.d/x";
  s.user = "..";
  EXPECT_EQ(ExpandOutputPattern("/home/ada/%x.out", 1, s, ""), "/home/ada/.._.._etc_cron.d_x.out");
  EXPECT_EQ(ExpandOutputPattern("/o/%u/%j", 1, s, ""), "/o/__/1");
  s.name = "/";
  EXPECT_EQ(ExpandOutputPattern("/o/%x", 1, s, ""), "/o/_");
}

TEST(JobSpec, PerNodeShares) {
  JobSpec s;
  s.nodes = 2;
  s.ntasks = 3;
  s.cpus_per_task = 4;
  s.gpus = 3;
  EXPECT_EQ(s.CpusPerNode(), 8);  // 2 tasks on the busier node x 4
  EXPECT_EQ(s.GpusPerNode(), 2);
  s.gpus_per_node = 1;
  EXPECT_EQ(s.GpusPerNode(), 1);
}

}  // namespace
}  // namespace corral
