// AccountingWriter: appends in batches of any size, keeps rows across reopening, and refuses
// a second writer.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "accounting/hdf5_writer.h"
#include "tests/unit/accounting/job_rows.h"
#include "tests/unit/accounting/temp_dir.h"

namespace corral {
namespace {

using testing::SampleJobs;
using testing::TempDir;

TEST(AccountingWriter, NewFileIsEmpty) {
  TempDir dir;
  auto w = AccountingWriter::Open(dir.File("acct.h5"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->size(), 0);
  auto rows = (*w)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_TRUE(rows->empty());
}

TEST(AccountingWriter, ManyBatchesSurviveReopening) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  std::vector<JobRecord> want;
  {
    auto w = AccountingWriter::Open(path);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    int64_t next = 0;
    for (int64_t batch : {1, 1000, 0, 1, 63, 64, 65, 1}) {
      std::vector<JobRecord> rows = SampleJobs(next, batch);
      next += batch;
      ASSERT_TRUE((*w)->Append(rows).ok());
      want.insert(want.end(), rows.begin(), rows.end());
      EXPECT_EQ((*w)->size(), static_cast<int64_t>(want.size()));
    }
    for (int i = 0; i < 50; ++i, ++next) {  // one job at a time, as corrald does
      std::vector<JobRecord> rows = SampleJobs(next, 1);
      ASSERT_TRUE((*w)->Append(rows).ok());
      want.push_back(rows[0]);
    }
    auto got = (*w)->ReadAll();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want);
  }
  auto w = AccountingWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->size(), 1245);
  auto got = (*w)->ReadAll();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, want);

  std::vector<JobRecord> more = SampleJobs(5000, 10);  // appending goes on after a reopen
  ASSERT_TRUE((*w)->Append(more).ok());
  want.insert(want.end(), more.begin(), more.end());
  got = (*w)->ReadAll();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, want);
}

// ReadAll converts in blocks of a few thousand rows; a table of several blocks reads whole.
TEST(AccountingWriter, ReadsTablesOfManyBlocks) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  auto w = AccountingWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (int64_t first = 0; first < 10'000; first += 2'500) {
    ASSERT_TRUE((*w)->Append(SampleJobs(first, 2'500)).ok());
  }
  ASSERT_TRUE((*w)->Append(SampleJobs(10'000, 1)).ok());
  auto got = (*w)->ReadAll();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, SampleJobs(0, 10'001));
}

TEST(AccountingWriter, SecondWriterIsRefusedUntilTheFirstCloses) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  auto first = AccountingWriter::Open(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE((*first)->Append(SampleJobs(0, 3)).ok());

  auto second = AccountingWriter::Open(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(second.status().message().find(path), std::string::npos);

  ASSERT_TRUE((*first)->Close().ok());
  auto third = AccountingWriter::Open(path);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ((*third)->size(), 3);
}

TEST(AccountingWriter, ClosedWriterRefusesWork) {
  TempDir dir;
  auto w = AccountingWriter::Open(dir.File("acct.h5"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_TRUE((*w)->Close().ok());  // idempotent
  Status st = (*w)->Append(SampleJobs(0, 1));
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ((*w)->ReadAll().status().code(), Status::Code::kFailedPrecondition);
}

TEST(AccountingWriter, EmptyFileIsTakenAsNew) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  std::ofstream(path).close();
  auto w = AccountingWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Append(SampleJobs(0, 2)).ok());
  EXPECT_EQ((*w)->size(), 2);
}

}  // namespace
}  // namespace corral
