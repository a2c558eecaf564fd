// `corral sim` as users run it: policies side by side in JSON, the per-job CSV, and clear
// errors with a non-zero exit for bad options and bad traces.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "accounting/hdf5_reader.h"

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
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
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

// The same jobs as a Philly CSV (told from its header) on two 4-GPU nodes; an Alibaba pod list
// beside its node list takes that as the machine.
TEST_F(SimCli, GpuTracesAreToldFromTheirContent) {
  const std::string philly = Write("p.csv",
                                   "timestamp,duration,num_gpus,gpu_time,cluster\n"
                                   "2017-10-09 07:00:10,100.0,8,800.0,a\n"
                                   "2017-10-09 07:00:00,50.0,4,200.0,a\n");
  Ran r =
      Sim("--trace " + philly + " --nodes 2 --cpus-per-node 8 --gpus-per-node 4 --json --check");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["trace"]["format"], "philly");
  EXPECT_EQ(j["machine"]["gpus"], 8);
  // The 4-GPU job submits first (at 0) and runs 0..50; the 8-GPU one (at 10) waits for it.
  EXPECT_DOUBLE_EQ(j["policies"][0]["mean_wait_s"].get<double>(), 40 / 2.0);
  EXPECT_DOUBLE_EQ(j["policies"][0]["gpu_utilization"].get<double>(), 1000.0 / (8 * 150));

  Write("openb_node_list_gpu_node.csv",
        "sn,cpu_milli,memory_mib,gpu,model\nn0,8000,16384,2,T4\nn1,8000,16384,2,T4\n");
  const std::string pods =
      Write("pods.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
            "deletion_time,scheduled_time\n"
            "openb-pod-0001,4000,1024,2,1000,,LS,Running,0,100,0\n"
            "openb-pod-0002,4000,1024,2,1000,T4,LS,Running,5,105,5\n"
            "openb-pod-0003,1000,1024,1,500,,BE,Running,6,16,6\n"
            "openb-pod-0004,1000,1024,1,1000,,BE,Pending,7,20,\n");
  r = Sim("--trace " + pods + " --json --check");
  ASSERT_EQ(r.code, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["trace"]["format"], "alibaba");
  EXPECT_EQ(j["trace"]["unreplayable"], 1) << "never scheduled";
  EXPECT_EQ(j["machine"]["nodes"], 2);
  EXPECT_EQ(j["machine"]["source"], "the trace's node list");
  EXPECT_EQ(j["policies"][0]["fractional_gpus_rounded_up"], 0) << "it gets half a T4";
  // Pods 1 and 2 fill both nodes; pod 3 waits until 100.
  EXPECT_DOUBLE_EQ(j["policies"][0]["mean_wait_s"].get<double>(), 94 / 3.0);
  r = Sim("--trace " + pods + " --json --check --whole-gpus");
  ASSERT_EQ(r.code, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["policies"][0]["fractional_gpus_rounded_up"], 1);
  r = Sim("--trace " + pods);
  EXPECT_NE(r.out.find("each gets that share of a device"), std::string::npos) << r.out;
}

TEST_F(SimCli, WindowsAndTheChart) {
  std::string text = "; MaxNodes: 4\n";
  for (int i = 1; i <= 40; ++i) {
    text += std::to_string(i) + " " + std::to_string(i * 10) + " -1 " + std::to_string(5 + i % 30) +
            " " + std::to_string(1 + i % 4) + " -1 -1 -1 60 -1 1 1 1 -1 -1 -1 -1 -1\n";
  }
  const std::string trace = Write("w.swf", text);
  Ran r =
      Sim("--trace " + trace + " --compare fcfs,easy --windows 3 --window-jobs 8 --json --check");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["policies"].size(), 2u);
  const nlohmann::json easy = j["policies"][1];
  EXPECT_EQ(easy["protocol"], "windows");
  ASSERT_EQ(easy["windows"].size(), 3u);
  double sum = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(easy["windows"][i]["jobs"], 8);
    EXPECT_EQ(easy["windows"][i]["first_job"], j["policies"][0]["windows"][i]["first_job"])
        << "every policy gets the same windows";
    sum += easy["windows"][i]["mean_bounded_slowdown"].get<double>();
  }
  EXPECT_DOUBLE_EQ(easy["mean_bounded_slowdown"].get<double>(), sum / 3);
  r = Sim("--trace " + trace + " --windows 3 --window-jobs 8 --seed 7");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("protocol: 3 windows of 8 jobs"), std::string::npos) << r.out;

  const std::string svg = (dir_ / "c.svg").string();
  r = Sim("--trace " + trace + " --compare fcfs,easy --svg " + svg);
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string chart = Read(svg);
  EXPECT_EQ(chart.rfind("<svg", 0), 0u);
  EXPECT_NE(chart.find("easy"), std::string::npos);
  EXPECT_NE(chart.find("<polyline"), std::string::npos);
  // With windows, the chart holds every window, one after another.
  const std::string wsvg = (dir_ / "w.svg").string();
  r = Sim("--trace " + trace + " --compare fcfs,easy --windows 3 --window-jobs 8 --svg " + wsvg);
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string wchart = Read(wsvg);
  EXPECT_NE(wchart.find("<polyline"), std::string::npos) << wchart.substr(0, 400);
  EXPECT_NE(wchart.find("3 windows, back to back"), std::string::npos);
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
      {"--trace " + Write("t.swf", kTrace) + " --compare easy,+fairshare", 2, "\"+fairshare\""},
      {"--trace " + Write("t.swf", kTrace) + " --policy easy+fair", 2, "\"easy+fair\""},
      {"--trace " + Write("t.swf", kTrace) + " --policy easy --compare fcfs", 2, "not both"},
      {"--trace " + Write("t.swf", kTrace) + " --nodes -3", 2, "--nodes"},
      {"--trace " + (dir_ / "missing.swf").string(), 1, "No such file"},
      {"--trace " + Write("e.swf", ""), 1, "no jobs"},
      {"--trace " + Write("b.swf", std::string("\0\1\2\3", 4)), 1, "not a text file"},
      {"--trace " + Write("h.swf", big + "\n") + " --strict", 1, "line 1: field 1"},
      {"--trace " + Write("h.swf", big + "\n"), 1, "no jobs"},
      {"--trace " + Write("z.swf", "\x1f\x8b garbage"), 1, "corrupt gzip"},
      {"--trace " + Write("t.swf", kTrace) + " --format xml", 2, "--format"},
      {"--trace " + Write("t.swf", kTrace) + " --windows 2 --window-jobs 5", 2, "--window-jobs"},
      {"--trace " + Write("t.swf", kTrace) + " --windows -1", 2, "--windows"},
      {"--trace " + Write("t.swf", kTrace) + " --gpus-per-node 2", 2, "--gpus-per-node"},
      {"--trace " + Write("t.swf", kTrace) + " --svg /nonexistent/dir/c.svg", 1, "--svg"},
      {"--trace " + Write("p.csv", "timestamp,duration,num_gpus\n2017-13-40 00:00:00,1,1\n") +
           " --strict",
       1, "line 2"},
      {"--trace " + Write("a.csv", "name,cpu_milli,num_gpu\nx,1,1\n"), 1, "column"},
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

// --cluster replays on the nodes of a cluster file, each profiled by corral-node from its
// topology (a synthetic hwloc string here) and GPU list; identical nodes form one group.
TEST_F(SimCli, ReplaysOnTheNodesOfAClusterFile) {
  const std::string trace = Write("t.swf", kTrace);
  const std::string cluster = Write("c.yaml",
                                    "nodes:\n"
                                    "  - name: cpu\n"
                                    "    count: 3\n"
                                    "    topology: \"pack:1 numa:1(memory=8GiB) core:2 pu:1\"\n"
                                    "  - name: gpu\n"
                                    "    topology: \"pack:2 numa:2(memory=16GiB) core:4 pu:2\"\n"
                                    "    gpus: \"2xH100@numa0,2xH100@numa1\"\n"
                                    "partitions:\n"
                                    "  - name: main\n"
                                    "    nodes: ALL\n");
  Ran r = Sim("--trace " + trace + " --cluster " + cluster + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out.substr(r.out.find('{')), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  const auto& m = j["machine"];
  EXPECT_EQ(m["nodes"], 4) << m.dump();
  EXPECT_EQ(m["cpus"], 3 * 2 + 2 * 2 * 4 * 2) << m.dump();
  EXPECT_EQ(m["gpus"], 4) << m.dump();
  EXPECT_NE(m["source"].get<std::string>().find("cluster file"), std::string::npos);
  ASSERT_EQ(m["groups"].size(), 2u) << m.dump();
  EXPECT_EQ(m["groups"][0]["count"], 3);
  EXPECT_EQ(m["groups"][0]["mem_mib"], 8192);
  EXPECT_EQ(m["groups"][1]["gpu_model"], "h100");
  EXPECT_EQ(j["policies"][0]["ran"], 3) << j["policies"][0].dump();
}

TEST_F(SimCli, BadClusterFilesNameTheFileAndTheNode) {
  const std::string trace = Write("t.swf", kTrace);
  struct Case {
    std::string yaml;
    std::string says;
  };
  const Case cases[] = {
      {"nodes: [", "--cluster"},
      {"partitions: []\n", "needs a list under `nodes:`"},
      {"nodes:\n  - name: x\n    topology: \"pack:zero\"\n", "node x: corral-node: --topology"},
      {"nodes:\n  - name: m\n    topology: \"pack:1 core:2 pu:1\"\n    gpus: \"1xH100,1xA100\"\n",
       "node m: it has GPUs of two models"},
      {"nodes:\n  - name: x\n    count: 999\n", "count"},
  };
  for (const Case& c : cases) {
    const std::string path = Write("bad.yaml", c.yaml);
    Ran r = Sim("--trace " + trace + " --cluster " + path);
    EXPECT_EQ(r.code, 2) << c.yaml << ": " << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.yaml << ": " << r.out;
    EXPECT_NE(r.out.find(path), std::string::npos) << "names the file: " << r.out;
  }
  Ran r = Sim("--trace " + trace + " --cluster " + (dir_ / "none.yaml").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;
  r = Sim("--trace " + trace + " --cluster " + Write("c.yaml", "nodes:\n  - name: a\n") +
          " --nodes 4");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("not both"), std::string::npos) << r.out;
}

// --jobs-h5 writes a row per policy and job into a new accounting file, read back here with the
// accounting module's own reader; an existing file is never overwritten.
TEST_F(SimCli, JobsAsAnAccountingFile) {
  const std::string trace = Write("t.swf", kTrace);
  const std::string h5 = (dir_ / "jobs.h5").string();
  Ran r = Sim("--trace " + trace + " --compare fcfs,easy+fairshare --jobs-h5 " + h5);
  ASSERT_EQ(r.code, 0) << r.out;
  auto reader = corral::AccountingReader::Open(h5);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto rows = (*reader)->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 6u);
  std::map<std::pair<std::string, int64_t>, corral::JobRecord> by;
  for (const corral::JobRecord& j : *rows) by[{j.partition, j.job_id}] = j;
  // EASY starts job 3 (2 CPUs for 10 s) at its submit, beside job 1; FCFS after job 2.
  const corral::JobRecord& easy3 = by.at({"easy+fairshare", 3});
  EXPECT_EQ(easy3.state, "COMPLETED");
  EXPECT_EQ(easy3.submit_ms, 2000);
  EXPECT_EQ(easy3.start_ms, 2000);
  EXPECT_EQ(easy3.end_ms, 12000);
  EXPECT_EQ(easy3.ncpus, 2);
  EXPECT_EQ(easy3.cpu_ms, 20000);
  EXPECT_GT(by.at({"fcfs", 3}).start_ms, 100000);
  r = Sim("--trace " + trace + " --jobs-h5 " + h5);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("exists"), std::string::npos) << r.out;
  r = Sim("--trace " + trace + " --jobs-h5 " + (dir_ / "no" / "x.h5").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("no such folder"), std::string::npos) << r.out;
}

// corral-acct-import refuses rows that are not JobRecords, naming the line and the field, and
// leaves no file behind.
TEST_F(SimCli, TheImporterRefusesBadRows) {
  const std::string h5 = (dir_ / "x.h5").string();
  const std::pair<std::string, std::string> cases[] = {
      {"{\"job_id\": 1}\nnot json\n", "line 2: not a JSON object"},
      {"[1, 2]\n", "line 1: not a JSON object"},
      {"{\"ncpus\": 99999999999}\n", "line 1: ncpus: out of range"},
      {"{\"state\": 7}\n", "line 1: state: must be a string"},
      {"{\"job_id\": \"x\"}\n", "line 1: job_id: must be an integer"},
      {std::string("\0\1\2", 3) + "\n", "line 1: not a JSON object"},
  };
  for (const auto& [rows, says] : cases) {
    const std::string in = Write("rows.jsonl", rows);
    const std::string cmd =
        std::string(CORRAL_BIN_DIR) + "/corral-acct-import --rows " + in + " --to " + h5 + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int st = pclose(p);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) << out;
    EXPECT_NE(out.find(says), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(h5)) << "no file is left behind";
  }
}

}  // namespace
