// SWMR: a reader in another process sees rows appended after it opened; a writer killed
// without closing leaves a file that the next writer opens, with every flushed row kept;
// while a writer lives, no other process may write.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "accounting/hdf5_reader.h"
#include "accounting/hdf5_writer.h"
#include "tests/unit/accounting/child_process.h"
#include "tests/unit/accounting/job_rows.h"
#include "tests/unit/accounting/temp_dir.h"

namespace corral {
namespace {

using testing::ChildProcess;
using testing::SampleJobs;
using testing::TempDir;

// Child exit codes, so that a failure in the child says where it happened.
enum ChildExit { kOk = 0, kOpenFailed = 10, kAppendFailed, kCloseFailed, kParentGone };

int WriteInTurns(const std::string& path, ChildProcess& turn) {
  auto w = AccountingWriter::Open(path);
  if (!w.ok()) return kOpenFailed;
  if (!(*w)->Append(SampleJobs(0, 10)).ok()) return kAppendFailed;
  if (!turn.Post() || !turn.Await()) return kParentGone;
  for (int i = 0; i < 100; ++i) {  // one row per append, as corrald does
    if (!(*w)->Append(SampleJobs(10 + i, 1)).ok()) return kAppendFailed;
  }
  if (!(*w)->Append(SampleJobs(110, 1000)).ok()) return kAppendFailed;
  if (!turn.Post() || !turn.Await()) return kParentGone;
  return (*w)->Close().ok() ? kOk : kCloseFailed;
}

TEST(Swmr, ReaderInAnotherProcessSeesLaterAppends) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  ChildProcess writer([&](ChildProcess& turn) { return WriteInTurns(path, turn); });
  ASSERT_TRUE(writer.Await()) << "writer died before its first append";

  auto r = AccountingReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = (*r)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, SampleJobs(0, 10));

  ASSERT_TRUE(writer.Post());
  ASSERT_TRUE(writer.Await()) << "writer died during its second appends";
  rows = (*r)->ReadAll();  // the writer is still open, in SWMR mode
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, SampleJobs(0, 1110));

  ASSERT_TRUE(writer.Post());
  int status = writer.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kOk);
  rows = (*r)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 1110u);
}

// In one process HDF5 shares one open file between the writer and a reader, so this shows
// only that the combination works there, not the cross-process protocol (see above).
TEST(Swmr, ReaderInTheWriterProcessSeesLaterAppends) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  auto w = AccountingWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Append(SampleJobs(0, 5)).ok());
  auto r = AccountingReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = (*r)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 5u);
  ASSERT_TRUE((*w)->Append(SampleJobs(5, 7)).ok());
  rows = (*r)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, SampleJobs(0, 12));
}

// The child appends rows 0..`rows` (a batch, then 100 one at a time, all flushed), then dies
// without closing: by kill -9 if `kill9`, else by _exit.
void DieWhileWriting(const std::string& path, int rows, bool kill9) {
  ChildProcess writer([&](ChildProcess&) {
    auto w = AccountingWriter::Open(path);
    if (!w.ok()) return static_cast<int>(kOpenFailed);
    if (!(*w)->Append(SampleJobs(0, rows - 100)).ok()) return static_cast<int>(kAppendFailed);
    for (int i = rows - 100; i < rows; ++i) {
      if (!(*w)->Append(SampleJobs(i, 1)).ok()) return static_cast<int>(kAppendFailed);
    }
    if (kill9) kill(getpid(), SIGKILL);
    _exit(kOk);  // no destructors, no atexit: the file stays marked as being written
  });
  int status = writer.Wait();
  if (kill9) {
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
  } else {
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), kOk);
  }
}

// True if plain HDF5 refuses to open the file for writing: the stale SWMR flag is set.
bool SwmrFlagIsStale(const std::string& path) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t file = -1;
  H5E_BEGIN_TRY {
    file = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
  }
  H5E_END_TRY;
  H5Pclose(fapl);
  if (file >= 0) H5Fclose(file);
  return file < 0;
}

void ExpectRecovery(bool kill9) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  DieWhileWriting(path, 1234, kill9);
  ASSERT_TRUE(SwmrFlagIsStale(path)) << "the test did not leave a stale flag behind";

  {
    auto w = AccountingWriter::Open(path);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ((*w)->size(), 1234);
    auto rows = (*w)->ReadAll();
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(*rows, SampleJobs(0, 1234));
    ASSERT_TRUE((*w)->Append(SampleJobs(1234, 66)).ok());
  }
  EXPECT_FALSE(SwmrFlagIsStale(path)) << "a clean close must clear the flag";
  auto r = AccountingReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = (*r)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, SampleJobs(0, 1300));
}

TEST(Swmr, WriterRecoversAfterKill9) {
  ExpectRecovery(/*kill9=*/true);
}

TEST(Swmr, WriterRecoversAfterExitWithoutClose) {
  ExpectRecovery(/*kill9=*/false);
}

// The writer is killed at an arbitrary point of a stream of one-row appends. Every append it
// acknowledged is kept, and the table is an unbroken prefix of what it was writing.
TEST(Swmr, WriterKilledMidStreamKeepsEveryAcknowledgedRow) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  constexpr int kAcked = 300;
  ChildProcess writer([&](ChildProcess& turn) {
    auto w = AccountingWriter::Open(path);
    if (!w.ok()) return static_cast<int>(kOpenFailed);
    for (int i = 0;; ++i) {
      if (!(*w)->Append(SampleJobs(i, 1)).ok()) return static_cast<int>(kAppendFailed);
      if (i + 1 == kAcked && !turn.Post()) return static_cast<int>(kParentGone);
    }
  });
  ASSERT_TRUE(writer.Await()) << "writer died before " << kAcked << " appends";
  usleep(2000);  // let it run on, so that the kill lands in the middle of an append
  int status = writer.Kill();
  ASSERT_TRUE(WIFSIGNALED(status)) << "writer stopped by itself: " << WEXITSTATUS(status);

  auto w = AccountingWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_GE((*w)->size(), kAcked);
  auto rows = (*w)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, SampleJobs(0, static_cast<int64_t>(rows->size())));
}

// An explorer keeps its reader open while corrald dies and restarts. Both writers are forked
// before the reader opens: a child forked later would inherit the parent's open file (HDF5
// state is per process) and could not open it for writing.
TEST(Swmr, ReaderOutlivesAKilledAndRestartedWriter) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  ChildProcess first([&](ChildProcess& turn) {
    auto w = AccountingWriter::Open(path);
    if (!w.ok()) return static_cast<int>(kOpenFailed);
    if (!(*w)->Append(SampleJobs(0, 20)).ok()) return static_cast<int>(kAppendFailed);
    if (!turn.Post() || !turn.Await()) return static_cast<int>(kParentGone);
    kill(getpid(), SIGKILL);
    return static_cast<int>(kOk);
  });
  ChildProcess second([&](ChildProcess& turn) {
    if (!turn.Await()) return static_cast<int>(kParentGone);
    auto w = AccountingWriter::Open(path);
    if (!w.ok()) {
      std::fprintf(stderr, "restarted writer: %s\n", w.status().ToString().c_str());
      return static_cast<int>(kOpenFailed);
    }
    if (!(*w)->Append(SampleJobs(20, 30)).ok()) return static_cast<int>(kAppendFailed);
    if (!turn.Post() || !turn.Await()) return static_cast<int>(kParentGone);
    return static_cast<int>((*w)->Close().ok() ? kOk : kCloseFailed);
  });
  ASSERT_TRUE(first.Await());
  auto r = AccountingReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(first.Post());
  int status = first.Wait();
  ASSERT_TRUE(WIFSIGNALED(status));
  auto rows = (*r)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, SampleJobs(0, 20));

  ASSERT_TRUE(second.Post());
  if (second.Await()) {
    rows = (*r)->ReadAll();
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(*rows, SampleJobs(0, 50));
    ASSERT_TRUE(second.Post());
  }
  status = second.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kOk) << "the restarted writer failed";
}

TEST(Swmr, WriterInAnotherProcessBlocksASecondWriter) {
  TempDir dir;
  std::string path = dir.File("acct.h5");
  ChildProcess writer([&](ChildProcess& turn) {
    auto w = AccountingWriter::Open(path);
    if (!w.ok()) return static_cast<int>(kOpenFailed);
    if (!(*w)->Append(SampleJobs(0, 4)).ok()) return static_cast<int>(kAppendFailed);
    if (!turn.Post() || !turn.Await()) return static_cast<int>(kParentGone);
    return static_cast<int>((*w)->Close().ok() ? kOk : kCloseFailed);
  });
  ASSERT_TRUE(writer.Await());
  auto second = AccountingWriter::Open(path);
  ASSERT_FALSE(second.ok()) << "two writers on one file";
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable) << second.status().ToString();
  ASSERT_TRUE(writer.Post());
  int status = writer.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kOk);

  auto again = AccountingWriter::Open(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->size(), 4);
}

}  // namespace
}  // namespace corral
