// The job journal of corral-node: entries survive the process, replace each other whole, and
// files that are not entries (truncated, foreign, left from a write cut short) are dropped with
// a word, never taken for a job.
#include "launcher/journal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace corral {
namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corral-journal-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ + "/jobs/" + name, std::ios::binary) << bytes;
  }
  static v1::NodeJournalEntry Entry(int64_t id, int32_t restarts) {
    v1::NodeJournalEntry e;
    e.set_job_id(id);
    e.set_restarts(restarts);
    e.set_session("abc");
    e.set_batch_host(true);
    return e;
  }
  std::string dir_;
};

TEST_F(JournalTest, EntriesAreReadBackInJobOrderAndReplacedWhole) {
  auto j = JobJournal::Open(dir_ + "/jobs");
  ASSERT_TRUE(j.ok()) << j.status().message();
  ASSERT_TRUE(j->Put(Entry(12, 0)).ok());
  ASSERT_TRUE(j->Put(Entry(3, 1)).ok());
  v1::NodeJournalEntry ended = Entry(12, 0);
  ended.mutable_finished()->set_job_id(12);
  ended.mutable_finished()->set_state("COMPLETED");
  ASSERT_TRUE(j->Put(ended).ok());
  // A second journal on the same directory, as after a restart.
  auto again = JobJournal::Open(dir_ + "/jobs");
  ASSERT_TRUE(again.ok());
  auto entries = again->Load();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].job_id(), 3);
  EXPECT_EQ(entries[0].restarts(), 1);
  EXPECT_FALSE(entries[0].has_finished());
  EXPECT_EQ(entries[1].job_id(), 12);
  EXPECT_EQ(entries[1].finished().state(), "COMPLETED");
  again->Remove(3);
  again->Remove(3);    // twice: nothing
  again->Remove(999);  // never there: nothing
  EXPECT_EQ(again->Load().size(), 1u);
}

TEST_F(JournalTest, FilesThatAreNotEntriesAreDroppedAndNamed) {
  auto j = JobJournal::Open(dir_ + "/jobs");
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE(j->Put(Entry(5, 0)).ok());
  std::string good = Entry(7, 0).SerializeAsString();
  Write("job-7", good.substr(0, good.size() / 2));    // truncated mid-field
  Write("job-8", Entry(9, 0).SerializeAsString());    // names another job
  Write("job-x1", "");                                // not a job id
  Write("job--4", Entry(-4, 0).SerializeAsString());  // not a positive id
  Write("job-6", "\xff\xff\xff\xff garbage");
  Write(".tmp-job-5", "a write cut short by a kill");
  std::vector<std::string> skipped;
  auto entries = j->Load(&skipped);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].job_id(), 5);
  EXPECT_EQ(skipped.size(), 5u);
  for (const auto& s : skipped) EXPECT_NE(s.find(dir_), std::string::npos) << s;
  // Dropped from the directory too: the next start does not trip on them again.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/jobs")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(JournalTest, ADirectoryThatCannotBeMadeIsAClearError) {
  std::ofstream(dir_ + "/file") << "x";  // a file where a parent directory would have to be
  auto j = JobJournal::Open(dir_ + "/file/jobs");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find(dir_ + "/file/jobs"), std::string::npos)
      << j.status().message();
}

}  // namespace
}  // namespace corral
