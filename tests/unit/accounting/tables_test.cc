// /steps and /usage beside /jobs: appended together, read by job through the writer and a SWMR
// reader; and files of an older layout (fewer columns in /jobs, /usage an empty group) upgraded
// in place with every row kept.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstring>
#include <string>
#include <vector>

#include "accounting/hdf5_reader.h"
#include "accounting/hdf5_writer.h"
#include "tests/unit/accounting/job_rows.h"
#include "tests/unit/accounting/temp_dir.h"

namespace corral {
namespace {

using testing::SampleJob;
using testing::SampleJobs;
using testing::TempDir;

StepRecord SampleStep(int64_t job, int64_t i) {
  StepRecord s;
  s.job_id = job;
  s.step_id = (job << 8) + i;
  s.node = "n" + std::to_string(i % 3);
  s.name = "python train.py --epoch " + std::to_string(i);
  s.state = i % 4 == 3 ? "FAILED" : "COMPLETED";
  s.exit_code = i % 4 == 3 ? 2 : 0;
  s.restarts = static_cast<int32_t>(i % 2);
  s.start_ms = 1'700'000'000'000 + i * 10;
  s.end_ms = s.start_ms + 5'000 + i;
  s.cpu_used_ms = 4'000 + i;
  s.max_rss_bytes = (int64_t{1} << 33) + i;
  return s;
}

UsageSample SampleUsage(int64_t job, int64_t i) {
  UsageSample u;
  u.job_id = job;
  u.node = "gpu-node-" + std::to_string(i % 2);
  u.restarts = 1;
  u.gpu_util_pct = static_cast<int32_t>(i % 101);
  u.sampled_ms = 1'700'000'000'000 + i * 5'000;
  u.cpu_ms = 1'000 * i;
  u.rss_bytes = (int64_t{1} << 30) + i;
  u.gpu_mem_bytes = (int64_t{40} << 30) + i;
  u.gpu_power_mw = 350'000 + i;
  u.energy_mj = 1'750'000 * i;
  return u;
}

TEST(AccountingTables, StepsAndUsageGoInWithJobsAndReadByJob) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  auto w = AccountingWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  AccountingBatch b;
  b.jobs = SampleJobs(0, 3);
  std::vector<StepRecord> steps_of_1001;
  std::vector<UsageSample> usage_of_1002;
  for (int64_t i = 0; i < 10; ++i) {
    for (int64_t job : {1000, 1001, 1002}) {
      b.steps.push_back(SampleStep(job, i));
      b.usage.push_back(SampleUsage(job, i));
      if (job == 1001) steps_of_1001.push_back(b.steps.back());
      if (job == 1002) usage_of_1002.push_back(b.usage.back());
    }
  }
  ASSERT_TRUE((*w)->Append(b).ok());
  ASSERT_TRUE((*w)->Append(AccountingBatch{}).ok());
  EXPECT_EQ((*w)->size(), 3);
  EXPECT_EQ((*w)->steps(), 30);
  EXPECT_EQ((*w)->samples(), 30);
  auto all_steps = (*w)->ReadSteps();
  ASSERT_TRUE(all_steps.ok());
  EXPECT_EQ(*all_steps, b.steps);
  auto steps = (*w)->ReadSteps({1001});
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(*steps, steps_of_1001);
  auto usage = (*w)->ReadUsage({1002});
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(*usage, usage_of_1002);
  auto none = (*w)->ReadUsage({424242});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  // A reader in another process sees the same; so does this process after the writer closes.
  w->reset();
  auto r = AccountingReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rs = (*r)->ReadSteps({1001});
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(*rs, steps_of_1001);
  auto ru = (*r)->ReadUsage({1002});
  ASSERT_TRUE(ru.ok());
  EXPECT_EQ(*ru, usage_of_1002);
  auto rj = (*r)->ReadAll();
  ASSERT_TRUE(rj.ok());
  EXPECT_EQ(*rj, b.jobs);
}

// The /jobs of an earlier version: these columns only, and an empty /usage group.
struct OldRow {
  int64_t job_id, submit_ms, start_ms, end_ms, cpu_ms;
  int32_t ncpus, exit_code;
  char user[64];
  char state[24];
};

void InsertStr(hid_t t, const char* name, size_t off, size_t n) {
  hid_t s = H5Tcopy(H5T_C_S1);
  H5Tset_size(s, n);
  H5Tset_strpad(s, H5T_STR_NULLPAD);
  H5Tinsert(t, name, off, s);
  H5Tclose(s);
}

void WriteOldFile(const std::string& path, const std::vector<OldRow>& rows, bool leftover_new) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  ASSERT_GE(file, 0);
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(OldRow));
  H5Tinsert(t, "job_id", offsetof(OldRow, job_id), H5T_NATIVE_INT64);
  H5Tinsert(t, "submit_ms", offsetof(OldRow, submit_ms), H5T_NATIVE_INT64);
  H5Tinsert(t, "start_ms", offsetof(OldRow, start_ms), H5T_NATIVE_INT64);
  H5Tinsert(t, "end_ms", offsetof(OldRow, end_ms), H5T_NATIVE_INT64);
  H5Tinsert(t, "cpu_ms", offsetof(OldRow, cpu_ms), H5T_NATIVE_INT64);
  H5Tinsert(t, "ncpus", offsetof(OldRow, ncpus), H5T_NATIVE_INT32);
  H5Tinsert(t, "exit_code", offsetof(OldRow, exit_code), H5T_NATIVE_INT32);
  InsertStr(t, "user", offsetof(OldRow, user), 64);
  InsertStr(t, "state", offsetof(OldRow, state), 24);
  hsize_t n = rows.size(), max = H5S_UNLIMITED, chunk = 64;
  hid_t space = H5Screate_simple(1, &n, &max);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  hid_t d = H5Dcreate2(file, "/jobs", t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  if (!rows.empty()) {
    ASSERT_GE(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), 0);
  }
  H5Dclose(d);
  if (leftover_new) {  // an upgrade that died after creating its copy
    hid_t junk = H5Dcreate2(file, "/jobs.new", t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dclose(junk);
  }
  H5Gclose(H5Gcreate2(file, "/usage", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Tclose(t);
  H5Fclose(file);
  H5Pclose(fapl);
}

std::vector<OldRow> OldRows(int n) {
  std::vector<OldRow> rows(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    OldRow& r = rows[static_cast<size_t>(i)];
    std::memset(&r, 0, sizeof r);
    r.job_id = 7 + i;
    r.submit_ms = 1000 + i;
    r.start_ms = 2000 + i;
    r.end_ms = 3000 + i;
    r.cpu_ms = 4000 * i;
    r.ncpus = 2 + i;
    r.exit_code = i % 2;
    std::snprintf(r.user, sizeof r.user, "u%d", i);
    std::snprintf(r.state, sizeof r.state, "%s", i % 2 ? "FAILED" : "COMPLETED");
  }
  return rows;
}

void ExpectOldRowsKept(const std::vector<JobRecord>& got, const std::vector<OldRow>& old) {
  ASSERT_EQ(got.size(), old.size());
  for (size_t i = 0; i < old.size(); ++i) {
    EXPECT_EQ(got[i].job_id, old[i].job_id);
    EXPECT_EQ(got[i].submit_ms, old[i].submit_ms);
    EXPECT_EQ(got[i].end_ms, old[i].end_ms);
    EXPECT_EQ(got[i].cpu_ms, old[i].cpu_ms);
    EXPECT_EQ(got[i].ncpus, old[i].ncpus);
    EXPECT_EQ(got[i].exit_code, old[i].exit_code);
    EXPECT_EQ(got[i].user, old[i].user);
    EXPECT_EQ(got[i].state, old[i].state);
    EXPECT_EQ(got[i].qos, "");  // columns the old table lacked
    EXPECT_EQ(got[i].max_rss_bytes, 0);
    EXPECT_EQ(got[i].nodelist, "");
  }
}

TEST(AccountingTables, ReaderReadsAnOlderLayout) {
  TempDir dir;
  std::string path = dir.File("old.h5");
  std::vector<OldRow> old = OldRows(5);
  WriteOldFile(path, old, false);
  auto r = AccountingReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto jobs = (*r)->ReadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ExpectOldRowsKept(*jobs, old);
  auto usage = (*r)->ReadUsage({7});  // /usage is an empty group there: no samples
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_TRUE(usage->empty());
}

TEST(AccountingTables, WriterUpgradesAnOlderLayoutKeepingEveryRow) {
  for (bool leftover : {false, true}) {
    SCOPED_TRACE(leftover ? "with a leftover /jobs.new" : "clean");
    TempDir dir;
    std::string path = dir.File("old.h5");
    std::vector<OldRow> old = OldRows(5000);  // more than one block
    WriteOldFile(path, old, leftover);
    {
      auto w = AccountingWriter::Open(path);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      EXPECT_EQ((*w)->size(), 5000);
      auto got = (*w)->ReadAll();
      ASSERT_TRUE(got.ok());
      ExpectOldRowsKept(*got, old);
      AccountingBatch b;  // new rows carry every column
      b.jobs = {SampleJob(1)};
      b.usage = {SampleUsage(1001, 3)};
      ASSERT_TRUE((*w)->Append(b).ok());
    }
    auto w = AccountingWriter::Open(path);  // already upgraded: opens as it is
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto got = (*w)->ReadAll();
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 5001u);
    EXPECT_EQ(got->back(), SampleJob(1));
    auto usage = (*w)->ReadUsage({1001});
    ASSERT_TRUE(usage.ok());
    EXPECT_EQ(*usage, std::vector<UsageSample>{SampleUsage(1001, 3)});
  }
}

TEST(AccountingTables, AGroupThatHoldsSomethingIsNotReplaced) {
  TempDir dir;
  std::string path = dir.File("odd.h5");
  {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    hid_t g = H5Gcreate2(file, "/steps", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(g, "mine", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Gclose(g);
    H5Fclose(file);
    H5Pclose(fapl);
  }
  auto w = AccountingWriter::Open(path);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kInvalid);
  EXPECT_NE(w.status().message().find("/steps is not a dataset"), std::string::npos)
      << w.status().message();
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  EXPECT_GT(H5Lexists(file, "/steps/mine", H5P_DEFAULT), 0);  // left as it was
  H5Fclose(file);
}

TEST(AccountingTables, AColumnOfAnotherKindIsRefused) {
  TempDir dir;
  std::string path = dir.File("odd.h5");
  struct Odd {
    int64_t job_id;
    int32_t user;  // a number where the user's name belongs
  };
  {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(Odd));
    H5Tinsert(t, "job_id", offsetof(Odd, job_id), H5T_NATIVE_INT64);
    H5Tinsert(t, "user", offsetof(Odd, user), H5T_NATIVE_INT32);
    hsize_t n = 1;
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t d = H5Dcreate2(file, "/jobs", t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    Odd row{42, 7};
    ASSERT_GE(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &row), 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Tclose(t);
    H5Fclose(file);
    H5Pclose(fapl);
  }
  auto w = AccountingWriter::Open(path);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kInvalid);
  EXPECT_NE(w.status().message().find("column 'user' is of another kind"), std::string::npos)
      << w.status().message();
  auto r = AccountingReader::Open(path);  // a reader reads what it can: the id
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = (*r)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].job_id, 42);
  EXPECT_EQ((*rows)[0].user, "");
}

}  // namespace
}  // namespace corral
