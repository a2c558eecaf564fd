// Every JobRecord field survives the writer, a reopen and the SWMR reader; strings too long
// for their column are cut (at a UTF-8 character boundary), empty and full-width strings kept.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "accounting/hdf5_reader.h"
#include "accounting/hdf5_writer.h"
#include "tests/unit/accounting/temp_dir.h"

namespace corral {
namespace {

using testing::TempDir;

JobRecord AllFieldsSet() {
  JobRecord r;
  r.job_id = std::numeric_limits<int64_t>::max() - 1;
  r.name = "inference array \xC3\xA9t\xC3\xA9";  // UTF-8 "été"
  r.user = "alice";
  r.account = "physics";
  r.partition = "gpu-h100";
  r.nodelist = "gpu[01-08],n7";
  r.gpu_models = "h100,a100";
  r.state = "NODE_FAIL";
  r.nnodes = 9;
  r.ncpus = 1152;
  r.ngpus = 64;
  r.exit_code = -9;
  r.submit_ms = 1'764'000'000'001;
  r.start_ms = 1'764'000'000'502;
  r.end_ms = 1'764'000'360'503;
  r.cpu_ms = int64_t{1152} * 360'001;
  r.gpu_ms = int64_t{64} * 360'001;
  r.energy_mj = std::numeric_limits<int64_t>::max();
  r.cost_micro = std::numeric_limits<int64_t>::min();
  return r;
}

// Writes `rows`, then checks they read back as `want` from the writer, after reopening, and
// through a reader.
void ExpectRoundTrip(const std::vector<JobRecord>& rows, const std::vector<JobRecord>& want) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  {
    auto w = AccountingWriter::Open(path);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Append(rows).ok());
    auto got = (*w)->ReadAll();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want) << "through the writer";
  }
  {
    auto w = AccountingWriter::Open(path);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto got = (*w)->ReadAll();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want) << "after reopening";
  }
  auto r = AccountingReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = (*r)->ReadAll();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, want) << "through a reader";
}

TEST(JobRecordRoundTrip, EveryFieldIsKept) {
  JobRecord r = AllFieldsSet();
  ExpectRoundTrip({r}, {r});
}

TEST(JobRecordRoundTrip, EmptyStringsAndZerosAreKept) {
  JobRecord r;  // every string empty, every number 0
  JobRecord s = AllFieldsSet();
  ExpectRoundTrip({r, s, r}, {r, s, r});
}

TEST(JobRecordRoundTrip, FullWidthStringsAreKeptWhole) {
  JobRecord r = AllFieldsSet();
  r.name = std::string(kJobNameBytes, 'n');
  r.user = std::string(kJobUserBytes, 'u');
  r.account = std::string(kJobAccountBytes, 'a');
  r.partition = std::string(kJobPartitionBytes, 'p');
  r.state = std::string(kJobStateBytes, 'S');
  r.nodelist = std::string(kJobNodelistBytes, 'l');
  r.gpu_models = std::string(kJobGpuModelsBytes, 'g');
  ExpectRoundTrip({r}, {r});
}

TEST(JobRecordRoundTrip, LongStringsAreTruncatedToTheirColumn) {
  JobRecord r = AllFieldsSet();
  r.name = std::string(kJobNameBytes, 'n') + "-overflow";
  r.user = std::string(kJobUserBytes + 1, 'u');
  r.account = std::string(kJobAccountBytes * 2, 'a');
  r.partition = std::string(kJobPartitionBytes + 5, 'p');
  r.state = "COMPLETED" + std::string(kJobStateBytes, '!');
  r.nodelist = std::string(kJobNodelistBytes * 3, 'l');
  r.gpu_models = std::string(kJobGpuModelsBytes + 1, 'g');
  JobRecord want = r;
  want.name.resize(kJobNameBytes);
  want.user.resize(kJobUserBytes);
  want.account.resize(kJobAccountBytes);
  want.partition.resize(kJobPartitionBytes);
  want.state.resize(kJobStateBytes);
  want.nodelist.resize(kJobNodelistBytes);
  want.gpu_models.resize(kJobGpuModelsBytes);
  ExpectRoundTrip({r}, {want});
}

TEST(JobRecordRoundTrip, TruncationDoesNotSplitAUtf8Character) {
  JobRecord r;
  // "é" (2 bytes) straddles the end of the column; "€" (3 bytes) likewise by one byte.
  r.name = std::string(kJobNameBytes - 1, 'x') + "\xC3\xA9";
  r.user = std::string(kJobUserBytes - 2, 'y') + "\xE2\x82\xAC" + "tail";
  JobRecord want = r;
  want.name = std::string(kJobNameBytes - 1, 'x');
  want.user = std::string(kJobUserBytes - 2, 'y');
  ExpectRoundTrip({r}, {want});
}

}  // namespace
}  // namespace corral
