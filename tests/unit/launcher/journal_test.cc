// The job journal of corral-node: entries survive the process, the latest record of a job wins,
// forgotten jobs stay forgotten, the log is compacted, and a torn or foreign tail (a kill in the
// middle of a write, a damaged file) is dropped with a word, never taken for a job.
#include "launcher/journal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "fabric/delimited.h"

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
  std::string Log() const { return dir_ + "/jobs/journal"; }
  void AppendRaw(const std::string& bytes) {
    std::ofstream(Log(), std::ios::binary | std::ios::app) << bytes;
  }
  static v1::NodeJournalEntry Entry(int64_t id, int32_t restarts) {
    v1::NodeJournalEntry e;
    e.set_job_id(id);
    e.set_restarts(restarts);
    e.set_session("abc.0");
    e.set_batch_host(true);
    return e;
  }
  std::string dir_;
};

TEST_F(JournalTest, TheLatestRecordOfEachJobIsReadBackInJobOrder) {
  {
    auto j = JobJournal::Open(dir_ + "/jobs");
    ASSERT_TRUE(j.ok()) << j.status().message();
    ASSERT_TRUE((*j)->Put(Entry(12, 0)).ok());
    ASSERT_TRUE((*j)->Put(Entry(3, 1)).ok());
    ASSERT_TRUE((*j)->Put(Entry(7, 0)).ok());
    v1::NodeJournalEntry ended = Entry(12, 0);
    ended.mutable_finished()->set_job_id(12);
    ended.mutable_finished()->set_state("COMPLETED");
    ASSERT_TRUE((*j)->Put(ended).ok());
    (*j)->Remove(7);
    (*j)->Remove(7);    // twice: nothing
    (*j)->Remove(999);  // never there: nothing
  }
  // A second journal on the same directory, as after a restart.
  auto again = JobJournal::Open(dir_ + "/jobs");
  ASSERT_TRUE(again.ok());
  std::vector<std::string> skipped;
  auto entries = (*again)->Load(&skipped);
  EXPECT_TRUE(skipped.empty());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].job_id(), 3);
  EXPECT_EQ(entries[0].restarts(), 1);
  EXPECT_FALSE(entries[0].has_finished());
  EXPECT_EQ(entries[1].job_id(), 12);
  EXPECT_EQ(entries[1].finished().state(), "COMPLETED");
  // Load compacted the log to the two live entries.
  EXPECT_EQ(std::filesystem::file_size(Log()),
            EncodeDelimited(entries[0]).size() + EncodeDelimited(entries[1]).size());
}

TEST_F(JournalTest, ManyJobsComeAndGoAndTheLogStaysSmall) {
  auto j = JobJournal::Open(dir_ + "/jobs");
  ASSERT_TRUE(j.ok());
  for (int64_t id = 1; id <= 20000; ++id) {
    ASSERT_TRUE((*j)->Put(Entry(id, 0)).ok());
    v1::NodeJournalEntry e = Entry(id, 0);
    e.mutable_finished()->set_state("COMPLETED");
    ASSERT_TRUE((*j)->Put(e).ok());
    if (id != 777) (*j)->Remove(id);
  }
  EXPECT_LT(std::filesystem::file_size(Log()), 4096u * 64);  // compacted along the way
  auto again = JobJournal::Open(dir_ + "/jobs");
  auto entries = (*again)->Load();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].job_id(), 777);
}

TEST_F(JournalTest, ATornOrForeignTailIsDroppedAndNamed) {
  {
    auto j = JobJournal::Open(dir_ + "/jobs");
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->Put(Entry(5, 0)).ok());
    ASSERT_TRUE((*j)->Put(Entry(6, 0)).ok());
  }
  std::string whole = EncodeDelimited(Entry(8, 0));
  AppendRaw(whole.substr(0, whole.size() - 3));  // a write cut short by a kill
  auto j = JobJournal::Open(dir_ + "/jobs");
  std::vector<std::string> skipped;
  auto entries = (*j)->Load(&skipped);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].job_id(), 5);
  EXPECT_EQ(entries[1].job_id(), 6);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("record 3 is torn or malformed"), std::string::npos) << skipped[0];
  // Garbage, and a record that names no job.
  v1::NodeJournalEntry nobody;
  nobody.set_restarts(4);
  AppendRaw(EncodeDelimited(nobody));
  AppendRaw("\xff\xff\xff\xff\x0f garbage");
  skipped.clear();
  auto again = JobJournal::Open(dir_ + "/jobs");
  entries = (*again)->Load(&skipped);
  EXPECT_EQ(entries.size(), 2u);
  EXPECT_EQ(skipped.size(), 2u);
  // The next start finds a clean log.
  skipped.clear();
  auto third = JobJournal::Open(dir_ + "/jobs");
  EXPECT_EQ((*third)->Load(&skipped).size(), 2u);
  EXPECT_TRUE(skipped.empty());
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
