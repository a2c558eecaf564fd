// The SQLite store: what is put comes back, across a reopen, and bad directories are refused.
#include "sched/ctld/store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace corral::ctld {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corral-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

Job SampleJob(JobId id) {
  Job j;
  j.id = id;
  j.spec.name = "train-\xe2\x9c\x93";
  j.spec.user = "ada";
  j.spec.nodes = 2;
  j.spec.ntasks = 4;
  j.spec.cpus_per_task = 3;
  j.spec.mem_mib = 4096;
  j.spec.gpu_model = "h100";
  j.spec.gpus = 4;
  j.spec.time_limit_ms = 3600000;
  j.spec.script = std::string("#!/bin/sh\necho \0binary\n", 24);
  j.spec.output = "/o/%j.out";
  j.spec.workdir = "/w";
  j.spec.env = {{"A", "1"}, {"EMPTY", ""}};
  j.spec.args = {"x", "y z"};
  j.state = JobState::kRunning;
  j.submit_ms = 1000;
  j.start_ms = 2000;
  j.alloc = {{"n1", 6, 4096, {0, 1}}, {"n2", 6, 4096, {2, 3}}};
  return j;
}

TEST_F(StoreTest, JobsAndNodesRoundTripAcrossReopen) {
  {
    auto s = Store::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Begin().ok());
    ASSERT_TRUE((*s)->PutJob(SampleJob(7)).ok());
    Job done = SampleJob(9);
    done.state = JobState::kCompleted;
    done.end_ms = 3000;
    done.exit_code = 3;
    done.accounted = true;
    ASSERT_TRUE((*s)->PutJob(done).ok());
    NodeProfile p;
    p.name = "h100-0";
    p.cpus = 64;
    p.mem_mib = 1000;
    p.gpus = {{0, "h100", 81920, 1, "0000:17:00.0"}};
    ASSERT_TRUE((*s)->PutNode(p, 5).ok());
    ASSERT_TRUE((*s)->Commit().ok());
  }
  auto s = Store::Open(dir_);
  ASSERT_TRUE(s.ok());
  auto jobs = (*s)->LoadJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  const Job& j = (*jobs)[0];
  Job want = SampleJob(7);
  EXPECT_EQ(j.id, 7);
  EXPECT_EQ(j.spec.name, want.spec.name);
  EXPECT_EQ(j.spec.script, want.spec.script);
  EXPECT_EQ(j.spec.env, want.spec.env);
  EXPECT_EQ(j.spec.args, want.spec.args);
  EXPECT_EQ(j.spec.gpus, 4);
  EXPECT_EQ(j.spec.time_limit_ms, 3600000);
  EXPECT_EQ(j.state, JobState::kRunning);
  ASSERT_EQ(j.alloc.size(), 2u);
  EXPECT_EQ(j.alloc[1].node, "n2");
  EXPECT_EQ(j.alloc[1].gpu_indices, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ((*jobs)[1].state, JobState::kCompleted);
  EXPECT_EQ((*jobs)[1].exit_code, 3);
  EXPECT_TRUE((*jobs)[1].accounted);
  auto max = (*s)->MaxJobId();
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, 9);
  auto nodes = (*s)->LoadNodes();
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].gpus[0].pci_bus_id, "0000:17:00.0");
}

TEST_F(StoreTest, RolledBackChangesAreNotThere) {
  auto s = Store::Open(dir_);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Begin().ok());
  ASSERT_TRUE((*s)->PutJob(SampleJob(1)).ok());
  (*s)->Rollback();
  auto jobs = (*s)->LoadJobs();
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());
}

TEST_F(StoreTest, RefusesBadDirectoriesAndForeignFiles) {
  auto missing = Store::Open(dir_ + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("not a directory"), std::string::npos);
  {
    std::ofstream garbage(dir_ + "/corral.db", std::ios::binary);
    garbage << std::string(4096, '\x7f');
  }
  auto bad = Store::Open(dir_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("corral.db"), std::string::npos);
  // Nothing already stored is lost: the foreign file is untouched.
  EXPECT_EQ(std::filesystem::file_size(dir_ + "/corral.db"), 4096u);
}

}  // namespace
}  // namespace corral::ctld
