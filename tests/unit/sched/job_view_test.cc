// The published view of a job: what goes in comes back out of both entries.
#include "sched/ctld/job_view.h"

#include <gtest/gtest.h>

#include "fabric/delimited.h"

namespace corral::ctld {
namespace {

v1::JobInfo Info(int64_t id, const std::string& state) {
  v1::JobInfo j;
  j.set_id(id);
  j.set_state(state);
  j.set_reason("Resources");
  j.set_exit_code(3);
  j.set_submit_ms(1000 + id);
  j.set_nodelist("n[1-2]");
  j.set_stdout_path("/tmp/out-" + std::to_string(id));
  auto* s = j.mutable_spec();
  s->set_name("train");
  s->set_user("alice");
  s->set_nodes(2);
  s->set_gpus_per_node(4);
  s->set_gpu_model("h100");
  s->add_het()->set_nodes(3);
  return j;
}

TEST(JobView, KeepsTheInfoAndTheBrief) {
  JobView v(Info(7, "RUNNING"));
  EXPECT_EQ(v.state(), JobState::kRunning);
  EXPECT_EQ(v.exit_code(), 3);
  v1::JobInfo back;
  ASSERT_TRUE(v.Info(&back));
  EXPECT_EQ(back.SerializeAsString(), Info(7, "RUNNING").SerializeAsString());
  v1::JobBrief b;
  ASSERT_TRUE(v.Brief(&b));
  EXPECT_EQ(b.id(), 7);
  EXPECT_EQ(b.name(), "train");
  EXPECT_EQ(b.user(), "alice");
  EXPECT_EQ(b.state(), "RUNNING");
  EXPECT_EQ(b.reason(), "Resources");
  EXPECT_EQ(b.nodes(), 5);  // both components
  EXPECT_EQ(b.gpus(), "h100:8");
  EXPECT_EQ(b.nodelist(), "n[1-2]");
}

// Entries of several jobs, concatenated, are a stream a client can read.
TEST(JobView, EntriesConcatenateIntoStreams) {
  std::string briefs, infos;
  for (int64_t id = 1; id <= 50; ++id) {
    JobView v(Info(id, "PENDING"));
    briefs.append(v.brief_entry());
    infos.append(v.info_entry());
  }
  DelimitedReader rb(briefs), ri(infos);
  v1::JobBrief b;
  v1::JobInfo j;
  for (int64_t id = 1; id <= 50; ++id) {
    ASSERT_TRUE(rb.Next(&b));
    ASSERT_TRUE(ri.Next(&j));
    EXPECT_EQ(b.id(), id);
    EXPECT_EQ(j.stdout_path(), "/tmp/out-" + std::to_string(id));
  }
  EXPECT_FALSE(rb.Next(&b) || rb.error());
  EXPECT_FALSE(ri.Next(&j) || ri.error());
}

TEST(JobView, AnEmptyViewHasNoEntries) {
  JobView v;
  v1::JobInfo j;
  EXPECT_TRUE(v.brief_entry().empty());
  EXPECT_TRUE(v.info_entry().empty());
  EXPECT_FALSE(v.Info(&j));
}

TEST(JobView, AnUnknownStateIsTerminal) {
  EXPECT_EQ(JobView(Info(1, "NO-SUCH-STATE")).state(), JobState::kFailed);
}

}  // namespace
}  // namespace corral::ctld
