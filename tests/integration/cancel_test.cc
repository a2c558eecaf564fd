// Cancelling a running job kills its whole process tree, even children that left its
// process group or session.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

bool Alive(pid_t p) {
  std::ifstream f("/proc/" + std::to_string(p) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  size_t rp = line.rfind(')');
  return rp != std::string::npos && line[rp + 2] != 'Z';
}

TEST(Cancel, KillsTheJobsChildren) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  {
    // A child, a grandchild in another shell, and one in a session of its own.
    std::ofstream f(c->dir() + "/tree.sh");
    f << "#!/bin/sh\nsleep 300 &\necho $! >> pids\n"
         "sh -c 'sleep 301 & echo $! >> pids; wait' &\n"
         "setsid sleep 302 &\necho $! >> pids\necho started >> pids.done\nwait\n";
  }
  CmdResult s = c->Corral("submit --parsable tree.sh");
  ASSERT_EQ(s.code, 0) << s.err;
  std::string id = s.out.substr(0, s.out.find('\n'));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::istringstream in(c->ReadFile("pids"));
        int n = 0;
        std::string l;
        while (std::getline(in, l)) ++n;
        return n >= 3 && !c->ReadFile("pids.done").empty();
      },
      15000));
  std::vector<pid_t> pids;
  std::istringstream in(c->ReadFile("pids"));
  for (pid_t p; in >> p;) pids.push_back(p);
  ASSERT_EQ(pids.size(), 3u);
  for (pid_t p : pids) EXPECT_TRUE(Alive(p)) << p;
  CmdResult k = c->Corral("cancel " + id);
  EXPECT_EQ(k.code, 0) << k.err;
  for (pid_t p : pids) {
    EXPECT_TRUE(WaitFor([&] { return !Alive(p); }, 10000)) << "pid " << p << " survived";
  }
  CmdResult w = c->Corral("wait --json " + id);
  EXPECT_NE(w.out.find("CANCELLED"), std::string::npos) << w.out;
}

TEST(Cleanup, WhatAFinishedJobLeftBehindIsKilled) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult s = c->Corral(
      "submit --parsable --wrap 'sleep 300 & echo $! > left; setsid sleep 301 & echo $! >> "
      "left; exit 0'");
  ASSERT_EQ(s.code, 0) << s.err;
  ASSERT_EQ(c->Corral("wait -q " + s.out.substr(0, s.out.find('\n'))).code, 0);
  std::vector<pid_t> pids;
  std::istringstream in(c->ReadFile("left"));
  for (pid_t p; in >> p;) pids.push_back(p);
  ASSERT_EQ(pids.size(), 2u);
  for (pid_t p : pids) {
    EXPECT_TRUE(WaitFor([&] { return !Alive(p); }, 10000)) << "pid " << p << " outlived its job";
  }
}

}  // namespace
}  // namespace corral::testing
