// CPU binding for GPU jobs (cpu_bind.h): which CPUs are picked, how they are written, and that a
// spawned child starts bound to them while corral-node's own thread keeps its CPUs.
#include "launcher/cpu_bind.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "launcher/process.h"

namespace corral {
namespace {

const std::vector<std::vector<int32_t>> kTwoNuma = {{0, 1, 2, 3}, {4, 5, 6, 7}};

TEST(PickCpus, TheGpusNumaNodeFirstThenFreeOnesThenBusyOnes) {
  struct Case {
    const char* what;
    std::vector<int32_t> near;
    int32_t want;
    std::set<int32_t> busy;
    std::vector<int32_t> cpus;
  };
  const Case cases[] = {
      {"near NUMA 1", {1}, 2, {}, {4, 5}},
      {"near NUMA 0, some busy", {0}, 2, {0, 1}, {2, 3}},
      {"more than the NUMA node: free others next", {1}, 6, {}, {4, 5, 6, 7, 0, 1}},
      {"near ones busy: free far ones before busy near ones", {0}, 2, {0, 1, 2, 3}, {4, 5}},
      {"all busy: near first", {1}, 2, {0, 1, 2, 3, 4, 5, 6, 7}, {4, 5}},
      {"two GPUs' NUMA nodes, in order, once each", {1, 0, 1}, 5, {}, {4, 5, 6, 7, 0}},
      {"never more than there are", {0}, 20, {}, {0, 1, 2, 3, 4, 5, 6, 7}},
      {"unknown NUMA (-1) and out of range: any", {-1, 9}, 2, {0}, {1, 2}},
      {"none wanted", {0}, 0, {}, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PickCpus(kTwoNuma, c.near, c.want, c.busy), c.cpus) << c.what;
  }
  EXPECT_TRUE(PickCpus({}, {0}, 2, {}).empty()) << "no layout known";
}

TEST(CpuList, RunsJoined) {
  EXPECT_EQ(CpuList({}), "");
  EXPECT_EQ(CpuList({3}), "3");
  EXPECT_EQ(CpuList({3, 0, 1, 2, 8, 10, 11, 10}), "0-3,8,10-11");
}

std::string AllowedList(const std::string& status_file) {
  std::ifstream in(status_file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Cpus_allowed_list:", 0) == 0) {
      return line.substr(line.find_first_not_of(" \t", 18));
    }
  }
  return "";
}

TEST(Spawn, BindsTheChildToItsCpusAndNotItself) {
  cpu_set_t mine;
  ASSERT_EQ(sched_getaffinity(0, sizeof mine, &mine), 0);
  int32_t last = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mine)) last = c;
  ASSERT_GE(last, 0);
  char dir[] = "/tmp/corral-bind-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string out = std::string(dir) + "/status";
  auto run = [&](std::vector<int32_t> cpus) {
    SpawnSpec s;
    s.argv = {"/bin/cat", "/proc/self/status"};
    s.env = {{"PATH", "/usr/bin:/bin"}};
    s.stdout_path = out;
    s.cpus = std::move(cpus);
    Result<pid_t> pid = Spawn(s);
    EXPECT_TRUE(pid.ok()) << pid.status().message();
    int st = 0;
    if (pid.ok()) waitpid(*pid, &st, 0);
    return AllowedList(out);
  };
  const std::string unbound = run({});
  EXPECT_FALSE(unbound.empty());
  EXPECT_EQ(run({last}), std::to_string(last)) << "bound to the one CPU";
  EXPECT_EQ(run({CPU_SETSIZE + 5, -1}), unbound) << "CPUs it may not use: no binding";
  cpu_set_t after;
  ASSERT_EQ(sched_getaffinity(0, sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&mine, &after)) << "the spawning thread got its CPUs back";
  std::remove(out.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace corral
