// GPU model matching: empty = any, alternatives joined by '|', hostile spellings match nothing.
#include "common/node.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(GpuModelMatches, AnyExactAndAlternatives) {
  EXPECT_TRUE(GpuModelMatches("", "h100"));
  EXPECT_TRUE(GpuModelMatches("h100", "h100"));
  EXPECT_FALSE(GpuModelMatches("h100", "a100"));
  EXPECT_FALSE(GpuModelMatches("h10", "h100")) << "no prefix matching";
  EXPECT_FALSE(GpuModelMatches("h1000", "h100"));
  EXPECT_TRUE(GpuModelMatches("a100|h100", "h100"));
  EXPECT_TRUE(GpuModelMatches("a100|h100", "a100"));
  EXPECT_TRUE(GpuModelMatches("a100|h100|l4", "l4"));
  EXPECT_FALSE(GpuModelMatches("a100|h100", "l4"));
}

TEST(GpuModelMatches, EmptyAlternativesMatchNothing) {
  for (const char* want : {"|", "||", "a100||", "|a100", "a100||h100"}) {
    EXPECT_FALSE(GpuModelMatches(want, "")) << want;
    EXPECT_FALSE(GpuModelMatches(want, "l4")) << want;
  }
  EXPECT_TRUE(GpuModelMatches("a100||h100", "h100")) << "the named alternatives still count";
  EXPECT_FALSE(GpuModelMatches("h100", "")) << "a GPU with no model serves only 'any'";
  EXPECT_TRUE(GpuModelMatches("", ""));
}

TEST(NodeProfile, GpuCountCountsEveryAlternative) {
  NodeProfile p;
  p.gpus = {{0, "h100", 81920, 0, ""}, {1, "a100", 81920, 0, ""}, {2, "h100", 81920, 1, ""}};
  EXPECT_EQ(p.GpuCount(""), 3);
  EXPECT_EQ(p.GpuCount("h100"), 2);
  EXPECT_EQ(p.GpuCount("a100|h100"), 3);
  EXPECT_EQ(p.GpuCount("b200"), 0);
}

}  // namespace
}  // namespace corral
