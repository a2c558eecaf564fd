// RunCaptured: the output of a program that succeeds; for one that fails, its last error line;
// a program that hangs is killed at the deadline, and one that prints without end is cut off.
#include "common/subprocess.h"

#include <gtest/gtest.h>

namespace corral::cli {
namespace {

TEST(RunCaptured, OutputOfAProgramThatSucceeds) {
  Result<std::string> r =
      RunCaptured({"/bin/sh", "-c", "echo one; echo two >&2; echo three"}, 10000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "one\nthree\n");
}

TEST(RunCaptured, FailuresSayWhy) {
  Result<std::string> r =
      RunCaptured({"/bin/sh", "-c", "echo first >&2; echo 'bad --x' >&2; exit 3"}, 10000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_EQ(r.status().message(), "bad --x");
  r = RunCaptured({"/bin/sh", "-c", "exit 4"}, 10000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "exit status 4");
  r = RunCaptured({"/bin/sh", "-c", "kill -9 $$"}, 10000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "killed by signal 9");
  r = RunCaptured({"/nonexistent/corral-node"}, 10000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("/nonexistent/corral-node"), std::string::npos);
  EXPECT_FALSE(RunCaptured({}, 10000).ok());
}

TEST(RunCaptured, HangsAndFloodsAreCutOff) {
  Result<std::string> r = RunCaptured({"/bin/sh", "-c", "exec sleep 30"}, 300);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("did not finish"), std::string::npos);
  r = RunCaptured({"/usr/bin/yes"}, 10000, 4096);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 4096 bytes"), std::string::npos);
}

}  // namespace
}  // namespace corral::cli
