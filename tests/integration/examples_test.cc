// The three workload examples run on a local cluster with the results their READMEs promise:
// the training loss falls, the RL mean return rises, and the inference merge covers every row.
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

TEST(Examples, TrainingLossFallsOnTwoNodes) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult s =
      c->Corral("submit --parsable -o ddp.out " + SourceDir() + "/examples/training/ddp.sh");
  ASSERT_EQ(s.code, 0) << s.err;
  ASSERT_EQ(c->Corral("wait -q --timeout 120 " + FirstLine(s)).code, 0)
      << c->ReadFile("ddp.out") << c->Diagnose();
  std::string out = c->ReadFile("ddp.out");
  EXPECT_NE(out.find("2 rank(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("(fell)"), std::string::npos) << out;
}

TEST(Examples, RlMeanReturnRisesAcrossAHetJob) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult s = c->Corral("submit --parsable -o rl.out " + SourceDir() + "/examples/rl/hetjob.sh");
  ASSERT_EQ(s.code, 0) << s.err;
  ASSERT_EQ(c->Corral("wait -q --timeout 120 " + FirstLine(s)).code, 0)
      << c->ReadFile("rl.out") << c->Diagnose();
  std::string out = c->ReadFile("rl.out");
  EXPECT_NE(out.find("2 actor rank(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("(rose)"), std::string::npos) << out;
}

TEST(Examples, InferenceArrayAndMergeCoverEveryRow) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult s = c->Shell(SourceDir() + "/examples/inference/array.sh");
  ASSERT_EQ(s.code, 0) << s.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(s.out, m, std::regex(R"(merge job (\d+))"))) << s.out;
  ASSERT_EQ(c->Corral("wait -q --timeout 120 " + m[1].str()).code, 0);
  CmdResult merged = c->Shell("cat infer-merge-*.out");
  EXPECT_NE(merged.out.find("merged 4 file(s): 20000 rows"), std::string::npos) << merged.out;
}

}  // namespace
}  // namespace corral::testing
