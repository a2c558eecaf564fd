// Containment on real processes: corral-exec (through Spawn) joins a cgroup, drops to another
// user, refuses to write through a symlink and says why it cannot exec; a cgroup's memory limit
// gets a hog killed (counted as an OOM kill), and killing a group ends a double-forked child.
// The cgroup tests need root and a cgroup hierarchy; where there is none they say so and skip.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "launcher/cgroup.h"
#include "launcher/process.h"

namespace corral {
namespace {

namespace fs = std::filesystem;

class ContainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("corral-contain-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::all);  // another user's output goes here too
  }
  void TearDown() override {
    if (groups_) {
      for (const auto& leaf : groups_->Leaves()) {
        groups_->KillAll(leaf, 2000);
        groups_->Remove(leaf);
      }
    }
    fs::remove_all(dir_);
  }
  SpawnSpec Spec(std::vector<std::string> argv) {
    SpawnSpec sp;
    sp.argv = std::move(argv);
    sp.env = {{"PATH", "/usr/bin:/bin"}};
    sp.stdout_path = (dir_ / "out").string();
    sp.exec_helper = CORRAL_EXEC_PATH;
    return sp;
  }
  std::string Read(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  static int Wait(pid_t pid) {
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
  }
  // This process's groups, or a reason to skip.
  bool OpenGroups() {
    std::string why;
    groups_ = Cgroups::Open("contain-test-" + std::to_string(getpid()), &why);
    if (!groups_) std::cerr << "no cgroups here: " << why << "\n";
    return groups_ != nullptr;
  }

  fs::path dir_;
  std::unique_ptr<Cgroups> groups_;
};

TEST_F(ContainTest, HelperRunsTheProgramAndSaysWhyItCannot) {
  SpawnSpec sp = Spec({"sh", "-c", "echo hello; echo oops >&2; exit 3"});
  auto pid = Spawn(sp);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  EXPECT_EQ(ExitCodeOf(Wait(*pid)), 3);
  EXPECT_EQ(Read(dir_ / "out"), "hello\noops\n");

  sp = Spec({"no-such-program-anywhere"});
  auto missing = Spawn(sp);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot execute no-such-program-anywhere"),
            std::string::npos)
      << missing.status().message();
  EXPECT_NE(Read(dir_ / "out").find("cannot execute"), std::string::npos) << "the job's stderr";

  sp = Spec({"true"});
  sp.cwd = (dir_ / "gone").string();
  auto nodir = Spawn(sp);
  ASSERT_FALSE(nodir.ok());
  EXPECT_NE(nodir.status().message().find("cannot chdir to"), std::string::npos);
}

TEST_F(ContainTest, OutputIsNeverWrittenThroughASymlink) {
  const fs::path victim = dir_ / "victim";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, dir_ / "link");
  for (bool helper : {true, false}) {
    SpawnSpec sp = Spec({"echo", "overwritten"});
    if (!helper) sp.exec_helper.clear();
    sp.stdout_path = (dir_ / "link").string();
    auto pid = Spawn(sp);
    ASSERT_FALSE(pid.ok()) << "helper " << helper;
    EXPECT_NE(pid.status().message().find("link"), std::string::npos) << pid.status().message();
    EXPECT_EQ(Read(victim), "precious\n");
  }
}

TEST_F(ContainTest, HelperDropsToTheJobsUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to change user";
  passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  SpawnSpec sp = Spec({"sh", "-c", "id -u; id -g; cat /proc/self/status | grep ^Groups"});
  sp.user = std::to_string(nobody->pw_uid) + ":" + std::to_string(nobody->pw_gid);
  auto pid = Spawn(sp);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  EXPECT_EQ(ExitCodeOf(Wait(*pid)), 0);
  std::istringstream out(Read(dir_ / "out"));
  std::string uid, gid, groups;
  std::getline(out, uid);
  std::getline(out, gid);
  std::getline(out, groups);
  EXPECT_EQ(uid, std::to_string(nobody->pw_uid));
  EXPECT_EQ(gid, std::to_string(nobody->pw_gid));
  std::istringstream gs(groups.substr(groups.find(':') + 1));
  for (std::string g; gs >> g;) EXPECT_NE(g, "0") << "root's group is not kept: " << groups;
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->pw_uid) << "the output file is opened as the user";

  // A file the user may not write is not written for them by root.
  const fs::path rootfile = dir_ / "root-only";
  std::ofstream(rootfile) << "root's\n";
  fs::permissions(rootfile, fs::perms::owner_read | fs::perms::owner_write);
  sp.stdout_path = rootfile.string();
  auto refused = Spawn(sp);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("Permission denied"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(Read(rootfile), "root's\n");

  for (const char* bad : {"x", "1", "1:", "-1:0", "1:2:a"}) {
    sp.user = bad;
    EXPECT_FALSE(Spawn(sp).ok()) << bad;
  }
}

TEST_F(ContainTest, AHogIsKilledAtItsMemoryLimitAndCounted) {
  if (!OpenGroups()) GTEST_SKIP() << "no usable cgroup hierarchy";
  CgroupLimits limits;
  limits.mem_bytes = 32 << 20;
  limits.cpus = 1;
  auto procs = groups_->Create("hog", limits);
  ASSERT_TRUE(procs.ok()) << procs.status().message();
  // tail keeps the whole of a line without a newline: 512 MiB of zeros.
  SpawnSpec sp = Spec({"sh", "-c", "head -c 512M /dev/zero | tail > /dev/null; echo survived"});
  sp.cgroup_procs = *procs;
  auto pid = Spawn(sp);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  Wait(*pid);
  CgroupUsage u = groups_->Usage("hog");
  EXPECT_GE(u.oom_kills, 1);
  EXPECT_GT(u.cpu_us, 0);
  EXPECT_LE(u.peak_bytes, limits.mem_bytes + (1 << 20));
  EXPECT_TRUE(groups_->Remove("hog"));

  // Within its limit, nothing is killed.
  procs = groups_->Create("fits", limits);
  ASSERT_TRUE(procs.ok());
  sp = Spec({"sh", "-c", "head -c 4M /dev/zero | tail > /dev/null"});
  sp.cgroup_procs = *procs;
  pid = Spawn(sp);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(ExitCodeOf(Wait(*pid)), 0);
  EXPECT_EQ(groups_->Usage("fits").oom_kills, 0);
}

TEST_F(ContainTest, KillingTheGroupEndsADoubleForkedChild) {
  if (!OpenGroups()) GTEST_SKIP() << "no usable cgroup hierarchy";
  auto procs = groups_->Create("job-7.0", {});
  ASSERT_TRUE(procs.ok()) << procs.status().message();
  // The child leaves its session and its parent, and clears its environment.
  const fs::path pidfile = dir_ / "grandchild";
  SpawnSpec sp = Spec(
      {"sh", "-c", "setsid env -i sh -c 'echo $$ > " + pidfile.string() + "; exec sleep 300' &"});
  sp.cgroup_procs = *procs;
  auto pid = Spawn(sp);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  Wait(*pid);
  pid_t grandchild = 0;
  for (int i = 0; i < 1000 && grandchild == 0; ++i) {
    std::string s = Read(pidfile);
    if (!s.empty() && s.back() == '\n') grandchild = std::stoi(s);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GT(grandchild, 0);
  std::vector<pid_t> in = groups_->Pids("job-7.0");
  EXPECT_NE(std::find(in.begin(), in.end(), grandchild), in.end());
  EXPECT_TRUE(groups_->KillAll("job-7.0", 5000));
  EXPECT_TRUE(groups_->Pids("job-7.0").empty());
  EXPECT_TRUE(groups_->Remove("job-7.0"));
  EXPECT_EQ(groups_->Leaves(), std::vector<std::string>{});
}

TEST_F(ContainTest, BadGroupNamesAreRefused) {
  auto g = Cgroups::At(1, {(dir_ / "fake").string()});
  for (const char* bad : {"", ".", "..", "a/b", "../../x"}) {
    EXPECT_FALSE(g->Create(bad, {}).ok()) << bad;
  }
}

}  // namespace
}  // namespace corral
