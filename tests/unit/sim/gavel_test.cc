// Gavel's throughput table (gavel.h): a small table, hostile input, and the real file when
// shared/data has it.
#include "sched/sim/gavel.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace corral::sim {
namespace {

TEST(Gavel, ParsesIsolatedThroughputsOfScaleOne) {
  Result<GavelTable> t = ParseGavel(R"json({
    "k80": {"('ResNet-50 (batch size 16)', 1)": {"null": 2.5, "('A3C', 1)": [1, 1]},
            "('ResNet-50 (batch size 16)', 2)": {"null": 4.0},
            "('Transformer (batch size 256)', 1)": {"null": 0.0}},
    "V100": {"('ResNet-50 (batch size 16)', 1)": {"null": 10.0},
             "('Transformer (batch size 256)', 1)": {"null": 7.5}},
    "v100_unconsolidated": {"('ResNet-50 (batch size 16)', 1)": {"null": 99.0}}
  })json");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->models, (std::vector<std::string>{"k80", "v100"}));
  EXPECT_EQ(t->jobs, (std::vector<std::string>{"ResNet-50 (batch size 16)",
                                               "Transformer (batch size 256)"}));
  EXPECT_DOUBLE_EQ(t->Of("k80", "ResNet-50 (batch size 16)"), 2.5) << "scale 1 only";
  EXPECT_DOUBLE_EQ(t->Of("v100", "ResNet-50 (batch size 16)"), 10.0) << "not the co-located one";
  EXPECT_EQ(t->Of("k80", "Transformer (batch size 256)"), 0) << "0: not measured";
  EXPECT_EQ(t->Fastest("ResNet-50 (batch size 16)"), (std::vector<std::string>{"v100", "k80"}));
  EXPECT_EQ(t->Fastest("Transformer (batch size 256)"), (std::vector<std::string>{"v100"}));
  EXPECT_TRUE(t->Fastest("unknown").empty());
}

TEST(Gavel, HostileInputIsAnErrorNamingWhere) {
  const std::pair<const char*, const char*> bad[] = {
      {"", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {"{\"k80\": 3}", "k80: not an object"},
      {"{\"k80\": {\"ResNet\": {\"null\": 1}}}", "k80: ResNet: not a job key"},
      {"{\"k80\": {\"('x', 1\": {\"null\": 1}}}", "not a job key"},
      {"{\"k80\": {\"('', 1)\": {\"null\": 1}}}", "not a job key"},
      {"{\"k80\": {\"('x', one)\": {\"null\": 1}}}", "not a job key"},
      {"{\"k80\": {\"('x', 1)\": {\"null\": \"fast\"}}}", "k80: x: null: not a number"},
      {"{\"k80\": {\"('x', 1)\": [1]}}", "k80: x: null: not a number"},
      {"{\"k80\": {\"('x', 1)\": {\"null\": 0}}}", "no throughputs"},
      {"{\"k80\": {\"('x', 1)\": {\"null\": 1}}", "not a JSON object"},
      {"\x1f\x8b\x08garbage", "not a JSON object"},
  };
  for (const auto& [text, why] : bad) {
    Result<GavelTable> t = ParseGavel(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.status().message().find(why), std::string::npos) << t.status().message();
  }
  EXPECT_FALSE(ReadGavel("/nonexistent/gavel.json").ok());
}

TEST(GavelTrace, TheRealTable) {
  std::string dir = CORRAL_SOURCE_DIR "/../shared/data/traces";
  if (const char* e = std::getenv("CORRAL_TRACES"); e != nullptr && *e != '\0') dir = e;
  const std::string path = dir + "/gavel/simulation_throughputs.json.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  Result<GavelTable> t = ReadGavel(path);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->models, (std::vector<std::string>{"k80", "p100", "v100"}));
  EXPECT_EQ(t->jobs.size(), 26u);
  // A V100 trains ResNet-50 faster than a K80.
  EXPECT_GT(t->Of("v100", "ResNet-50 (batch size 64)"), t->Of("k80", "ResNet-50 (batch size 64)"));
  EXPECT_EQ(t->Fastest("ResNet-50 (batch size 64)").front(), "v100");
}

}  // namespace
}  // namespace corral::sim
