// `corral sim` as users run it: policies side by side in JSON, the per-job CSV, and clear
// errors with a non-zero exit for bad options and bad traces.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

struct Ran {
  int code;
  std::string out;  // stdout and stderr
};

Ran Sim(const std::string& args) {
  std::string cmd = std::string(CORRAL_BIN_DIR) + "/corral sim " + args + " 2>&1";
  Ran r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class SimCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("corral-sim-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

// Four one-CPU nodes: a short job backfills beside the first only with EASY.
const char* const kTrace =
    "; MaxNodes: 4\n"
    "1 0 -1 100 2 -1 -1 2 100 -1 1 1 1 -1 -1 -1 -1 -1\n"
    "2 1 -1 100 4 -1 -1 4 100 -1 1 1 1 -1 -1 -1 -1 -1\n"
    "3 2 -1 10 2 -1 -1 2 10 -1 1 1 1 -1 -1 -1 -1 -1\n";

TEST_F(SimCli, ComparesPoliciesInJsonAndWritesEveryJob) {
  const std::string trace = Write("t.swf", kTrace);
  const std::string csv = (dir_ / "jobs.csv").string();
  Ran r = Sim("--trace " + trace + " --compare fcfs,easy --json --check --jobs-csv " + csv);
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["machine"]["nodes"], 4);
  ASSERT_EQ(j["policies"].size(), 2u);
  EXPECT_EQ(j["policies"][0]["policy"], "fcfs");
  EXPECT_EQ(j["policies"][1]["policy"], "easy");
  // FCFS: waits 0, 99, 198; EASY: 0, 99, 0.
  EXPECT_DOUBLE_EQ(j["policies"][0]["mean_wait_s"].get<double>(), (0 + 99 + 198) / 3.0);
  EXPECT_DOUBLE_EQ(j["policies"][1]["mean_wait_s"].get<double>(), 99 / 3.0);
  EXPECT_EQ(j["policies"][1]["violations"], 0);
  std::ifstream in(csv);
  std::string line;
  int rows = 0;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("policy,id,submit_s,start_s,end_s", 0), 0u) << line;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 6);  // three jobs, two policies
}

TEST_F(SimCli, TheTableNamesThePoliciesAndTheMachine) {
  Ran r = Sim("--trace " + Write("t.swf", kTrace) + " --compare easy,conservative");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("machine: 4 nodes: 4 x 1 CPU (MaxNodes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("conservative"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MEAN_BSLD"), std::string::npos) << r.out;
}

TEST_F(SimCli, BadInputGetsAClearErrorAndANonZeroExit) {
  std::string big;
  for (int i = 0; i < 18; ++i) big += "99999999999999999999 ";
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const Case cases[] = {
      {"", 2, "--trace: give the trace file"},
      {"--trace " + Write("t.swf", kTrace) + " --compare easy,greedy", 2, "\"greedy\""},
      {"--trace " + Write("t.swf", kTrace) + " --policy easy --compare fcfs", 2, "not both"},
      {"--trace " + Write("t.swf", kTrace) + " --nodes -3", 2, "--nodes"},
      {"--trace " + (dir_ / "missing.swf").string(), 1, "No such file"},
      {"--trace " + Write("e.swf", ""), 1, "no jobs"},
      {"--trace " + Write("b.swf", std::string("\0\1\2\3", 4)), 1, "not a text file"},
      {"--trace " + Write("h.swf", big + "\n") + " --strict", 1, "line 1: field 1"},
      {"--trace " + Write("h.swf", big + "\n"), 1, "no jobs"},
      {"--trace " + Write("z.swf", "\x1f\x8b garbage"), 1, "corrupt gzip"},
  };
  for (const Case& c : cases) {
    Ran r = Sim(c.args);
    EXPECT_EQ(r.code, c.code) << c.args << ": " << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << ": " << r.out;
  }
  // A malformed line among good ones is skipped, counted and named.
  Ran r = Sim("--trace " + Write("m.swf", std::string(kTrace) + "4 5 six\n"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1 malformed lines skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line 5: expected 18 fields, found 3"), std::string::npos) << r.out;
}

}  // namespace
