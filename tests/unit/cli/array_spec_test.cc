#include "cli/array_spec.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(ArraySpec, Forms) {
  struct Case {
    const char* in;
    std::vector<int32_t> want;
    int32_t throttle;
  } cases[] = {
      {"0-3", {0, 1, 2, 3}, 0},        {"7", {7}, 0},
      {"1,3,5-7", {1, 3, 5, 6, 7}, 0}, {"0-15:4", {0, 4, 8, 12}, 0},
      {"0-3%2", {0, 1, 2, 3}, 2},      {"5,1,5,3", {1, 3, 5}, 0},
  };
  for (const auto& c : cases) {
    auto r = ParseArraySpec("--array", c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().message();
    EXPECT_EQ(r->indices, c.want) << c.in;
    EXPECT_EQ(r->throttle, c.throttle) << c.in;
  }
  auto big = ParseArraySpec("--array", "0-99999");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->indices.size(), 100000u);
}

TEST(ArraySpec, HostileValues) {
  const std::pair<const char*, const char*> bad[] = {
      {"", "no indices"},
      {"%3", "no indices"},
      {"5-1", "runs backwards"},
      {"-1", "indices must be integers"},
      {"a-b", "indices must be integers"},
      {"1,", "trailing comma"},
      {"0-3%0", "positive integer"},
      {"0-3%x", "positive integer"},
      {"0-10:0", "the step"},
      {"99999999999", "indices must be integers"},
      {"0-9999999", "more than 1000000 tasks"},
      {"1-2-3", "indices must be integers"},
      {" 1", "indices must be integers"},
  };
  for (const auto& [in, why] : bad) {
    auto r = ParseArraySpec("--array", in);
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_NE(r.status().message().find("--array"), std::string::npos);
    EXPECT_NE(r.status().message().find(why), std::string::npos)
        << in << " -> " << r.status().message();
  }
  std::string binary("1\0-2", 4);
  EXPECT_FALSE(ParseArraySpec("--array", binary).ok());
}

TEST(Dependencies, Forms) {
  auto r = ParseDependencies("--dependency", "afterok:12:13,afterany:14,15");
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<JobSpec::Dependency> want = {
      {"afterok", 12}, {"afterok", 13}, {"afterany", 14}, {"afterany", 15}};
  EXPECT_EQ(*r, want);
  bool any = true;
  r = ParseDependencies("--dependency", "singleton,aftercorr:7", &any);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(any);
  want = {{"singleton", 0}, {"aftercorr", 7}};
  EXPECT_EQ(*r, want);
  r = ParseDependencies("--dependency", "afterok:1?afternotok:2:3", &any);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(any);
  want = {{"afterok", 1}, {"afternotok", 2}, {"afternotok", 3}};
  EXPECT_EQ(*r, want);
}

TEST(Dependencies, HostileValues) {
  for (const char* in : {"", "afterok", "afterok:", "afterok:x", "sometimes:3", "afterok:-1",
                         "afterok:1?afterany:2,afterok:3", "afterok:0", ",", "afterok:1,", "?",
                         "afterok:1?", "singleton:4", "aftercorr:"}) {
    auto r = ParseDependencies("--dependency", in);
    EXPECT_FALSE(r.ok()) << in;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("--dependency"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace corral

#include "cli/job_options.h"

namespace corral {
namespace {

Result<SubmitCommand> ParseScript(const std::string& script) {
  SubmitContext ctx{"/w", "ada", {}};
  return ParseSubmit({"job.sh"}, ctx,
                     [&](const std::string&) -> Result<std::string> { return script; });
}

TEST(HetjobDirectives, SplitComponents) {
  auto r = ParseScript(
      "#!/bin/sh\n#CORRAL -n 1 --gpus=h100:1\n#CORRAL hetjob\n#CORRAL -N 2 -n 4 -c 2\n"
      "#SBATCH hetjob\n#SBATCH --gpus-per-node=a100:1\ntrue\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const JobSpec& s = r->spec;
  EXPECT_EQ(s.gpus, 1);
  EXPECT_EQ(s.gpu_model, "h100");
  ASSERT_EQ(s.het.size(), 2u);
  EXPECT_EQ(s.het[0].nodes, 2);
  EXPECT_EQ(s.het[0].ntasks, 4);
  EXPECT_EQ(s.het[0].cpus_per_task, 2);
  EXPECT_EQ(s.het[1].gpus_per_node, 1);
  EXPECT_EQ(s.het[1].gpu_model, "a100");
}

TEST(HetjobDirectives, OnlyResourcesAfterTheSeparator) {
  auto r = ParseScript("#!/bin/sh\n#CORRAL -n 1\n#CORRAL hetjob\n#CORRAL -o x.out\ntrue\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 4"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("only resource options"), std::string::npos);
}

}  // namespace
}  // namespace corral
