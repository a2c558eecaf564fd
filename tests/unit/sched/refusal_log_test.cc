// Refused calls are logged without a flood of them flooding the log (sched/ctld/refusal_log.h).
#include "sched/ctld/refusal_log.h"

#include <gtest/gtest.h>

#include <vector>

namespace corral::ctld {
namespace {

TEST(RefusalLog, LogsTheFirstOfAMinuteThenSumsUpTheRest) {
  std::vector<std::string> lines;
  RefusalLog log([&](const std::string& l) { lines.push_back(l); }, 3);
  for (int i = 0; i < 1000; ++i)
    log.Refused("ipv4:10.0.0.9:" + std::to_string(4000 + i), "bad", 1000 + i);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "refused a call from ipv4:10.0.0.9:4000: bad");
  EXPECT_NE(lines[2].find("counted, not logged"), std::string::npos);
  // Another host is not held back by the first.
  log.Refused("ipv6:[::1]:5000", "no credential", 2000);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "refused a call from ipv6:[::1]:5000: no credential");
  // A minute later: the sum, then the new refusal.
  log.Refused("ipv4:10.0.0.9:1", "bad", 1000 + 60000);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[4],
            "997 more refused call(s) from 10.0.0.9 in the minute before, not logged one by one");
  EXPECT_EQ(lines[5], "refused a call from ipv4:10.0.0.9:1: bad");
}

TEST(RefusalLog, KnowsHostsFromPeersAndForgetsTheOldestPastItsBound) {
  EXPECT_EQ(RefusalLog::HostOf("ipv4:127.0.0.1:6817"), "127.0.0.1");
  EXPECT_EQ(RefusalLog::HostOf("ipv6:[fe80::1]:80"), "fe80::1");
  EXPECT_EQ(RefusalLog::HostOf("fd:12"), "fd:12");
  EXPECT_EQ(RefusalLog::HostOf(""), "");
  EXPECT_EQ(RefusalLog::HostOf("ipv4:"), "");
  int n = 0;
  RefusalLog log([&](const std::string&) { ++n; }, 1, 100);
  // Many hosts, one refusal each: every one is logged, and the table stays bounded.
  for (int i = 0; i < 5000; ++i)
    log.Refused("ipv4:10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":1",
                "bad", i);
  EXPECT_EQ(n, 5000);
  EXPECT_LE(log.hosts(), 100u);
  EXPECT_GT(log.hosts(), 0u);
}

}  // namespace
}  // namespace corral::ctld
