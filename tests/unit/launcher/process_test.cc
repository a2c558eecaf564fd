// Spawn, the job-process killers and the leftover sweep, on real processes.
#include "launcher/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

namespace corral {
namespace {

namespace fs = std::filesystem;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("corral-process-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  EnvList Env(int64_t job, const std::string& session) {
    return {{"PATH", "/usr/bin:/bin"},
            {"CORRAL_JOB_ID", std::to_string(job)},
            {"CORRAL_NODE_SESSION", session}};
  }
  std::string Read(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  // Polls `done` every 5 ms until it returns true or 10 s pass; returns whether it did.
  static bool Poll(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  // Waits until `path` holds a line, and returns it as a pid.
  pid_t PidFrom(const fs::path& path) {
    std::string s;
    if (Poll([&] { return !(s = Read(path)).empty() && s.back() == '\n'; })) {
      return static_cast<pid_t>(std::stol(s));
    }
    ADD_FAILURE() << path << " never got a pid";
    return -1;
  }
  // Reaps `pid` (a child of this process); returns its wait status.
  int Reap(pid_t pid) {
    int st = 0;
    pid_t r = 0;
    if (Poll([&] { return (r = waitpid(pid, &st, WNOHANG)) != 0; }) && r == pid) return st;
    ADD_FAILURE() << "process " << pid << " did not end";
    return -1;
  }
  fs::path dir_;
};

TEST_F(ProcessTest, SpawnWritesOutputAndReportsExitStatus) {
  SpawnSpec s;
  s.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  s.env = Env(1, "t");
  s.cwd = dir_.string();
  s.stdout_path = (dir_ / "o").string();
  s.stderr_path = (dir_ / "e").string();
  auto pid = Spawn(s);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  int st = Reap(*pid);
  EXPECT_EQ(ExitCodeOf(st), 3);
  EXPECT_EQ(Read(dir_ / "o"), "out\n");
  EXPECT_EQ(Read(dir_ / "e"), "err\n");
}

TEST_F(ProcessTest, SpawnNamesAMissingProgramOrDirectory) {
  SpawnSpec s;
  s.argv = {"no-such-program-corral"};
  s.env = Env(1, "t");
  s.stdout_path = (dir_ / "o").string();
  auto pid = Spawn(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("no-such-program-corral"), std::string::npos);
  EXPECT_NE(Read(dir_ / "o").find("cannot execute"), std::string::npos);

  s.argv = {"true"};
  s.cwd = (dir_ / "missing").string();
  pid = Spawn(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("cannot chdir"), std::string::npos);

  s.cwd = "";
  s.stdout_path = (dir_ / "missing" / "o").string();
  pid = Spawn(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("missing/o"), std::string::npos);
}

TEST_F(ProcessTest, ExitCodeOfASignalIs128PlusTheSignal) {
  SpawnSpec s;
  s.argv = {"sh", "-c", "kill -TERM $$"};
  s.env = Env(1, "t");
  s.stdout_path = "/dev/null";
  auto pid = Spawn(s);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(ExitCodeOf(Reap(*pid)), 128 + SIGTERM);
}

TEST_F(ProcessTest, KillJobProcessesEndsTheTreeIncludingANewSession) {
  SpawnSpec s;
  // A grandchild that leaves the job's session still carries the job's tags.
  s.argv = {"sh", "-c", "setsid sleep 300 & echo $! > " + (dir_ / "gc").string() + "; sleep 300"};
  s.env = Env(41, "sess-a");
  s.stdout_path = "/dev/null";
  auto pid = Spawn(s);
  ASSERT_TRUE(pid.ok());
  pid_t gc = PidFrom(dir_ / "gc");
  ASSERT_GT(gc, 0);
  KillJobProcesses(41, "sess-a", {*pid}, 2000);
  EXPECT_EQ(ExitCodeOf(Reap(*pid)), 128 + SIGTERM);
  // The grandchild is gone too (it was not our child: poll until kill(0) fails or it is a
  // zombie waiting for its reaper).
  bool gone = Poll([&] {
    std::string stat = Read("/proc/" + std::to_string(gc) + "/stat");
    return stat.empty() || stat.find(") Z") != std::string::npos;
  });
  EXPECT_TRUE(gone) << "grandchild " << gc << " survived";
}

TEST_F(ProcessTest, KillLeftoversTakesOnlyTheJobsOrphans) {
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  // Two scripts leave a background process each and exit: one of job 7, one of job 8.
  auto leave = [&](int64_t job, const std::string& file) {
    SpawnSpec s;
    s.argv = {"sh", "-c", "sleep 300 & echo $! > " + (dir_ / file).string()};
    s.env = Env(job, "sess-b");
    s.stdout_path = "/dev/null";
    auto pid = Spawn(s);
    EXPECT_TRUE(pid.ok());
    pid_t orphan = PidFrom(dir_ / file);
    EXPECT_EQ(ExitCodeOf(Reap(*pid)), 0);
    return orphan;
  };
  pid_t o7 = leave(7, "o7");
  pid_t o8 = leave(8, "o8");
  // Called from another thread, as corral-node's reaper thread does.
  int n = 0;
  std::thread([&] { n = KillLeftovers(7, "sess-b", {}); }).join();
  EXPECT_EQ(n, 1);
  int st = Reap(o7);  // the orphan is now our child: reap it
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  // Job 8's orphan, and anything tracked, are left alone.
  EXPECT_EQ(waitpid(o8, &st, WNOHANG), 0);
  EXPECT_EQ(KillLeftovers(8, "other-session", {}), 0);
  EXPECT_EQ(KillLeftovers(8, "sess-b", {o8}), 0);
  EXPECT_EQ(waitpid(o8, &st, WNOHANG), 0);
  EXPECT_EQ(KillLeftovers(8, "sess-b", {}), 1);
  st = Reap(o8);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

}  // namespace
}  // namespace corral
