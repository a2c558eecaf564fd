// Containment end to end, on a real corrald and corral-node: a job over its --mem ends
// OUT_OF_MEMORY, cancel ends a grandchild that left the job's session and cleared its
// environment, and a job runs as the user who submitted it. These need corral-node to be root on
// a machine with a cgroup hierarchy (as CI is); elsewhere they say so and skip.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

bool HasCgroups() {
  if (geteuid() != 0) return false;
  if (access("/sys/fs/cgroup/memory/cgroup.procs", W_OK) == 0) return true;  // v1
  std::ifstream v2("/sys/fs/cgroup/cgroup.controllers");
  std::string line;
  return std::getline(v2, line) && line.find("memory") != std::string::npos;
}

const char* const kOneNode = R"(nodes:
  - name: box
    topology: "pack:1 numa:1(memory=8GB) core:4 pu:1"
)";

TEST(Contain, AJobOverItsMemoryEndsOutOfMemory) {
  if (!HasCgroups()) GTEST_SKIP() << "corral-node needs root and a cgroup memory hierarchy";
  auto c = LocalCluster::Start(kOneNode);
  ASSERT_TRUE(c);
  // tail holds the whole of a line without a newline: 512 MB of zeros, against 64 MiB.
  const int64_t hog = SubmitOk(*c, "--mem=64M --wrap 'head -c 512M /dev/zero | tail; echo done'");
  const int64_t fits = SubmitOk(*c, "--mem=64M --wrap 'head -c 8M /dev/zero | tail | wc -c'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, hog) == "OUT_OF_MEMORY"; }, 30000))
      << QueueJob(*c, hog).dump() << c->Diagnose();
  const nlohmann::json j = QueueJob(*c, hog);
  EXPECT_NE(j["reason"].get<std::string>().find("out of memory"), std::string::npos) << j.dump();
  EXPECT_NE(j["reason"].get<std::string>().find("64 MiB"), std::string::npos) << j.dump();
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, fits) == "COMPLETED"; }, 30000))
      << QueueJob(*c, fits).dump();
  CmdResult q = c->Corral("queue -a -j " + std::to_string(hog));
  EXPECT_NE(q.out.find("OOM"), std::string::npos) << q.out;
  CmdResult a = c->Corral("acct --json -j " + std::to_string(hog));
  EXPECT_EQ(nlohmann::json::parse(a.out)["jobs"][0]["state"], "OUT_OF_MEMORY") << a.out;
}

TEST(Contain, UsageIsSampledWhileAJobRunsAndKeptAtItsEnd) {
  if (!HasCgroups()) GTEST_SKIP() << "corral-node needs root and a cgroup memory hierarchy";
  auto c = LocalCluster::Start(kOneNode);
  ASSERT_TRUE(c);
  // About a second of CPU, and 64 MiB held by tail at once.
  const int64_t done = SubmitOk(*c,
                                "--mem=256M --wrap 'head -c 64M /dev/zero | tail > /dev/null; "
                                "timeout 1 sh -c \"while :; do :; done\"; true'");
  const int64_t running = SubmitOk(*c, "--wrap 'sleep 300'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, done) == "COMPLETED"; }, 30000)) << c->Diagnose();
  const nlohmann::json u = QueueJob(*c, done)["usage"];
  ASSERT_TRUE(u.is_object()) << QueueJob(*c, done).dump();
  // A second of spinning gets less than a second of CPU when parallel tests share 2 cores.
  EXPECT_GE(u["cpu_ms"].get<int64_t>(), 250) << u.dump();
  EXPECT_GE(u["max_rss_bytes"].get<int64_t>(), 60 << 20) << u.dump();
  EXPECT_EQ(u["rss_bytes"], 0) << "ended: it holds nothing now";
  // A running job's sample arrives with a heartbeat (every 5 s by default).
  EXPECT_TRUE(WaitFor([&] { return QueueJob(*c, running)["usage"].is_object(); }, 15000))
      << QueueJob(*c, running).dump();
  c->Corral("cancel " + std::to_string(running));
}

TEST(Contain, AJobCannotOpenAnotherJobsGpu) {
  if (!HasCgroups() || access("/sys/fs/cgroup/devices/cgroup.procs", W_OK) != 0) {
    GTEST_SKIP() << "needs root and a cgroup v1 devices hierarchy";
  }
  auto c = LocalCluster::Start(R"(nodes:
  - name: box
    topology: "pack:1 numa:1(memory=8GB) core:4 pu:1"
    gpus: "2xT4"
)");
  ASSERT_TRUE(c);
  // Stand-ins for /dev/nvidia0 and /dev/nvidia1: no driver behind them, so opening one that
  // the job may use fails with ENXIO, and one it may not with EPERM, before any driver is asked.
  for (int g = 0; g < 2; ++g) {
    const std::string dev = c->dir() + "/nvidia" + std::to_string(g);
    ASSERT_EQ(mknod(dev.c_str(), S_IFCHR | 0666, makedev(195, g)), 0) << strerror(errno);
    const int fd = open(dev.c_str(), O_RDONLY);
    if (fd >= 0) close(fd);
    if (fd >= 0 || errno != ENXIO) {
      GTEST_SKIP() << "a device node opens here with " << strerror(errno)
                   << ", not ENXIO (a nodev mount, or a real GPU driver at major 195)";
    }
  }
  const int64_t id = SubmitOk(*c,
                              "--gpus=1 -o gpu-%j.txt --wrap 'for g in 0 1; do "
                              "cat " +
                                  c->dir() + "/nvidia$g 2>&1 | sed \"s/.*: //\"; done'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, id) == "COMPLETED"; }, 20000)) << c->Diagnose();
  const int mine = QueueJob(*c, id)["allocation"][0]["gpus"][0];
  const std::string out = c->ReadFile(c->dir() + "/gpu-" + std::to_string(id) + ".txt");
  const std::string ours = "No such device or address\n", theirs = "Operation not permitted\n";
  EXPECT_EQ(out, mine == 0 ? ours + theirs : theirs + ours) << "GPU " << mine;
}

TEST(Contain, CancelEndsAGrandchildThatLeftTheJob) {
  if (!HasCgroups()) GTEST_SKIP() << "corral-node needs root and a cgroup memory hierarchy";
  auto c = LocalCluster::Start(kOneNode);
  ASSERT_TRUE(c);
  const std::string pidfile = c->dir() + "/escaped.pid";
  // It leaves the session, its parent and the job's environment behind.
  const int64_t id = SubmitOk(*c, "--wrap \"setsid env -i sh -c 'echo \\$\\$ > " + pidfile +
                                      "; exec sleep 300' & sleep 300\"");
  std::string pid;
  ASSERT_TRUE(WaitFor(
      [&] {
        pid = c->ReadFile(pidfile);
        return !pid.empty() && pid.back() == '\n';
      },
      20000))
      << c->Diagnose();
  const pid_t escaped = std::stoi(pid);
  ASSERT_EQ(kill(escaped, 0), 0);
  c->Corral("cancel " + std::to_string(id));
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, id) == "CANCELLED"; }, 20000)) << c->Diagnose();
  EXPECT_TRUE(WaitFor([&] { return kill(escaped, 0) != 0 && errno == ESRCH; }, 10000))
      << "pid " << escaped << " outlived its job";
}

TEST(Contain, AJobRunsAsItsSubmitter) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to submit as another user";
  passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  auto c = LocalCluster::Start(kOneNode);
  ASSERT_TRUE(c);
  // nobody's own directory, which nobody else's job writes into.
  const std::string home = c->dir() + "/nobody";
  ASSERT_EQ(mkdir(home.c_str(), 0755), 0);
  ASSERT_EQ(chown(home.c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  ASSERT_EQ(chmod(c->dir().c_str(), 0711), 0);
  // nobody has no token: it calls through the controller's local socket, which knows its uid.
  CmdResult s = c->Shell("cd " + home +
                         " && env -u CORRAL_TOKEN -u CORRAL_CA CORRAL_CONTROLLER=unix:" + c->dir() +
                         "/cluster/state/corrald.sock setpriv --reuid=nobody --regid=" +
                         std::to_string(nobody->pw_gid) + " --clear-groups " + BinDir() +
                         "/corral submit --parsable -o out-%j.txt --wrap 'id -un; touch mine'");
  ASSERT_EQ(s.code, 0) << s.err;
  const int64_t id = std::stoll(FirstLine(s));
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, id) == "COMPLETED"; }, 20000))
      << QueueJob(*c, id).dump() << c->Diagnose();
  EXPECT_EQ(c->ReadFile(home + "/out-" + std::to_string(id) + ".txt"), "nobody\n");
  struct stat st {};
  ASSERT_EQ(stat((home + "/mine").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->pw_uid);

  // root's own jobs still run as root; another user's job cannot write root's files.
  const int64_t mine = SubmitOk(*c, "-o root-%j.txt --wrap 'id -un'");
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, mine) == "COMPLETED"; }, 20000));
  EXPECT_EQ(c->ReadFile(c->dir() + "/root-" + std::to_string(mine) + ".txt"), "root\n");
  s = c->Shell("cd " + home + " && env -u CORRAL_TOKEN -u CORRAL_CA CORRAL_CONTROLLER=unix:" +
               c->dir() + "/cluster/state/corrald.sock setpriv --reuid=nobody --regid=" +
               std::to_string(nobody->pw_gid) + " --clear-groups " + BinDir() +
               "/corral submit --parsable -o " + c->dir() + "/stolen-%j.txt --wrap true");
  ASSERT_EQ(s.code, 0) << s.err;
  const int64_t denied = std::stoll(FirstLine(s));
  ASSERT_TRUE(WaitFor([&] { return QueueState(*c, denied) == "FAILED"; }, 20000))
      << QueueJob(*c, denied).dump();
  EXPECT_NE(QueueJob(*c, denied)["reason"].get<std::string>().find("Permission denied"),
            std::string::npos)
      << QueueJob(*c, denied).dump();
}

TEST(Contain, RunGivesEachTaskItsRank) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult r = c->Corral("run -N2 -n2 printenv CORRAL_PROCID | sort");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n1\n");
}

}  // namespace
}  // namespace corral::testing
