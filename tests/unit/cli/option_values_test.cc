// Tests for cli/option_values.h: the value parsers behind the `corral submit` options.
#include "cli/option_values.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

namespace corral {
namespace {

TEST(ParseMemMib, Values) {
  const std::pair<const char*, int64_t> good[] = {
      {"1", 1},     {"500", 500},
      {"4G", 4096}, {"4g", 4096},
      {"3M", 3},    {"1024K", 1},
      {"1025K", 2}, {"1T", 1048576},
      {"0001", 1},  {"8796093022207T", 8796093022207LL * 1048576},
  };
  for (const auto& [text, mib] : good) {
    Result<int64_t> r = ParseMemMib(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(*r, mib) << text;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"0", "must be greater than 0"},
      {"0G", "must be greater than 0"},
      {"-5", "is not a memory size"},
      {"-5G", "is not a memory size"},
      {"", "is not a memory size"},
      {"G", "is not a memory size"},
      {"4GB", "is not a memory size"},
      {"4 G", "is not a memory size"},
      {"1.5G", "is not a memory size"},
      {"4P", "is not a memory size"},
      {"+4", "is not a memory size"},
      {"9223372036854775808", "is too large"},
      {"99999999999999999999", "is too large"},
      {"8796093022208T", "is too large"},
      {"9007199254740992G", "is too large"},
  };
  for (const auto& [text, reason] : bad) {
    Result<int64_t> r = ParseMemMib(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message().rfind("--mem: \"" + std::string(text) + "\" " + reason, 0), 0u)
        << r.status().message();
  }
}

TEST(ParseTimeLimitMs, SlurmFormats) {
  constexpr int64_t kS = 1000, kM = 60 * kS, kH = 60 * kM, kD = 24 * kH;
  const std::pair<const char*, int64_t> good[] = {
      {"0", 0},
      {"UNLIMITED", 0},
      {"unlimited", 0},
      {"Infinite", 0},
      {"10", 10 * kM},
      {"90", 90 * kM},
      {"5:30", 5 * kM + 30 * kS},
      {"0:45", 45 * kS},
      {"1:02:03", kH + 2 * kM + 3 * kS},
      {"48:00:00", 48 * kH},
      {"2-0", 2 * kD},
      {"1-12", kD + 12 * kH},
      {"1-2:30", kD + 2 * kH + 30 * kM},
      {"3-04:05:06", 3 * kD + 4 * kH + 5 * kM + 6 * kS},
      {"00:00:00", 0},
  };
  for (const auto& [text, ms] : good) {
    Result<int64_t> r = ParseTimeLimitMs(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(*r, ms) << text;
  }
  const char* bad[] = {"",   "-5",   "-1-00", "abc",        "1:2:3:4", "1-2:3:4:5", ":30",
                       "5:", "1--2", "1-",    "-",          "1h",      "1.5",       " 5",
                       "5 ", "+5",   "1-2-3", "unlimitedx", "1:-2"};
  for (const char* text : bad) {
    Result<int64_t> r = ParseTimeLimitMs(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(
        r.status().message().rfind("--time: \"" + std::string(text) + "\" is not a time limit", 0),
        0u)
        << r.status().message();
  }
  for (const char* text : {"153722867280912931", "99999999999999999999", "106751991167301-0",
                           "1:153722867280912931:0"}) {
    Result<int64_t> r = ParseTimeLimitMs(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message(), "--time: \"" + std::string(text) + "\" is too large");
  }
}

TEST(ParseGpuRequest, Values) {
  struct Good {
    const char* text;
    const char* model;
    int32_t count;
  };
  const Good good[] = {{"4", "", 4},
                       {"h100:2", "h100", 2},
                       {"H100:2", "h100", 2},
                       {"a100_80g.x-1:1", "a100_80g.x-1", 1},
                       {"0", "", 0},
                       {"h100:0", "", 0},
                       {"2147483647", "", 2147483647},
                       {"A100|h100:4", "a100|h100", 4}};
  for (const Good& g : good) {
    std::string model = "unset";
    int32_t count = -1;
    Status st = ParseGpuRequest(g.text, &model, &count);
    ASSERT_TRUE(st.ok()) << g.text << ": " << st.ToString();
    EXPECT_EQ(model, g.model) << g.text;
    EXPECT_EQ(count, g.count) << g.text;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"", "is not a GPU request"},
      {"h100", "is not a GPU request"},
      {"h100:", "is not a GPU request"},
      {":2", "is not a GPU request"},
      {"-2", "is not a GPU request"},
      {"h100:-2", "is not a GPU request"},
      {"gpu:h100:2", "is not a GPU request"},
      {"2x", "is not a GPU request"},
      {"h 100:2", "has an invalid GPU model"},
      {"h100/x:2", "has an invalid GPU model"},
      {"|:2", "has an empty GPU model alternative"},
      {"a100||h100:2", "has an empty GPU model alternative"},
      {"a100|:2", "has an empty GPU model alternative"},
      {"|h100:2", "has an empty GPU model alternative"},
      {"2147483648", "is too large"},
      {"h100:99999999999999999999", "is too large"},
  };
  for (const auto& [text, reason] : bad) {
    std::string model = "unset";
    int32_t count = -1;
    Status st = ParseGpuRequest(text, &model, &count);
    ASSERT_FALSE(st.ok()) << text;
    EXPECT_EQ(st.message().rfind("--gpus: \"" + std::string(text) + "\" " + reason, 0), 0u)
        << st.message();
    EXPECT_EQ(model, "unset") << "outputs are untouched on error";
    EXPECT_EQ(count, -1);
  }
}

TEST(ParseGpuFor, SharesOfOneGpu) {
  using option_values::ParseGpuFor;
  struct Good {
    const char* text;
    const char* model;
    int32_t milli;
  };
  const Good good[] = {
      {"0.5", "", 500},   {"t4:0.5", "t4", 500},           {".25", "", 250}, {"T4:0.001", "t4", 1},
      {"0.999", "", 999}, {"a10|t4:0.125", "a10|t4", 125}, {"2", "", 0}};
  for (const Good& g : good) {
    std::string model = "unset";
    int32_t count = -1, milli = -1;
    Status st = ParseGpuFor("--gpus", g.text, &model, &count, &milli);
    ASSERT_TRUE(st.ok()) << g.text << ": " << st.ToString();
    EXPECT_EQ(model, g.model) << g.text;
    EXPECT_EQ(count, g.milli > 0 ? 1 : 2) << g.text;
    EXPECT_EQ(milli, g.milli) << g.text;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"0.0", "is no share of a GPU"},       {"0.000", "is no share of a GPU"},
      {"1.5", "is not a share of a GPU"},    {"1.0", "is not a share of a GPU"},
      {"0.5555", "is not a share of a GPU"}, {"0.", "is not a share of a GPU"},
      {".", "is not a share of a GPU"},      {"0.5x", "is not a share of a GPU"},
      {"0.-5", "is not a share of a GPU"},   {"t4:0..5", "is not a share of a GPU"},
      {"00.5", "is not a share of a GPU"},
  };
  for (const auto& [text, reason] : bad) {
    std::string model = "unset";
    int32_t count = -1, milli = -1;
    Status st = ParseGpuFor("--gpus", text, &model, &count, &milli);
    ASSERT_FALSE(st.ok()) << text;
    EXPECT_EQ(st.message().rfind("--gpus: \"" + std::string(text) + "\" " + reason, 0), 0u)
        << st.message();
    EXPECT_EQ(count, -1) << "outputs are untouched on error";
    EXPECT_EQ(milli, -1);
  }
  // Where no share is taken (--gpus-per-node, a hetjob's own count), one is refused by name.
  std::string model;
  int32_t count = 0;
  Status st = ParseGpuFor("--gpus-per-node", "0.5", &model, &count);
  EXPECT_EQ(st.message(),
            "--gpus-per-node: \"0.5\" asks for a share of a GPU: only --gpus takes one");
}

}  // namespace
}  // namespace corral
