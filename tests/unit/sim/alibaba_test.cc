// The Alibaba GPU 2023 reader: the pod and node fields it maps, the lines it skips or refuses
// and the messages it gives for them, its files and directory, and the real trace in
// shared/data/traces when present.
#include "sched/sim/alibaba.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace corral::sim {
namespace {

constexpr std::string_view kHeader =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
    "deletion_time,scheduled_time\n";
constexpr std::string_view kNodeHeader = "sn,cpu_milli,memory_mib,gpu,model\n";

// A fresh directory under /tmp for one test, removed with what is in it at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/corral-alibaba-XXXXXX";
    if (char* made = mkdtemp(tmpl)) path_ = made;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteBytes(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void WriteGzip(const std::string& path, std::string_view text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr) << path;
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
}

std::string Pods(std::string_view rows) {
  return std::string(kHeader) + std::string(rows);
}

Result<Workload> Parse(std::string_view pods, std::string_view nodes = "") {
  return ParseAlibaba(pods, nodes, AlibabaOptions{});
}

Result<Workload> ParseStrict(std::string_view pods) {
  AlibabaOptions o;
  o.strict = true;
  return ParseAlibaba(pods, "", o);
}

std::string ErrorOf(const Result<Workload>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  return r.status().message();
}

// The one message of a parse that skips exactly one line (and keeps the good one).
std::string SkippedOf(std::string_view bad_row) {
  Result<Workload> r = Parse(Pods("p-1,1000,1,0,0,,LS,Running,0,10,0\n" + std::string(bad_row)));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->skipped, 1);
  return r->errors.empty() ? "" : r->errors[0];
}

// --- pods ---

TEST(AlibabaPods, MapsTheFields) {
  Result<Workload> r = Parse(
      Pods("openb-pod-0017,88000,327680,8,1000,nan,Burstable,Succeeded,9437497,10769854,9437497\n"
           "openb-pod-0022,4000,15258,1,220,,BE,Running,9679175,9973826,9679175\n"
           "openb-pod-0035,16000,32768,1,1000,V100M16|V100M32,LS,Running,9967058,9968575,9967063\n"
           "openb-pod-0061,11908,47104,1,1000,,BE,Pending,10001278,10001403,\n"
           "pod-x,3152,5600,0,0,T4,BE,Failed,5,10,6\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Workload& w = *r;
  EXPECT_EQ(w.format, "alibaba");
  EXPECT_EQ(w.lines, 6);
  EXPECT_EQ(w.skipped, 0);
  EXPECT_EQ(w.unreplayable, 1);  // openb-pod-0061: never scheduled
  EXPECT_EQ(w.fractional_gpus, 1);
  EXPECT_TRUE(w.machine.empty());
  ASSERT_EQ(w.jobs.size(), 4u);

  const SimJob& a = w.jobs[0];
  EXPECT_EQ(a.id, 17);
  EXPECT_EQ(a.submit_s, 9437497);
  EXPECT_EQ(a.wait_s, 0);
  EXPECT_EQ(a.run_s, 10769854 - 9437497);
  EXPECT_EQ(a.req_time_s, -1);
  EXPECT_EQ(a.procs, 88);
  EXPECT_EQ(a.nodes, 1);
  EXPECT_EQ(a.gpus, 8);
  EXPECT_EQ(a.gpu_milli, 1000);
  EXPECT_EQ(a.gpu_model, "");  // "nan"
  EXPECT_EQ(a.mem_mib, 327680);
  EXPECT_EQ(a.user, -1);
  EXPECT_EQ(a.line, 2);

  const SimJob& b = w.jobs[1];
  EXPECT_EQ(b.id, 22);
  EXPECT_EQ(b.procs, 4);
  EXPECT_EQ(b.gpus, 1);
  EXPECT_EQ(b.gpu_milli, 220);
  EXPECT_EQ(b.run_s, 294651);

  const SimJob& c = w.jobs[2];
  EXPECT_EQ(c.id, 35);
  EXPECT_EQ(c.wait_s, 5);
  EXPECT_EQ(c.run_s, 1512);
  EXPECT_EQ(c.gpu_model, "v100m16|v100m32");

  const SimJob& d = w.jobs[3];
  EXPECT_EQ(d.id, 5);  // no number in the name: the data row
  EXPECT_EQ(d.line, 6);
  EXPECT_EQ(d.procs, 4);  // 3152 milli, rounded up
  EXPECT_EQ(d.gpus, 0);
  EXPECT_EQ(d.gpu_milli, 1000);
  EXPECT_EQ(d.gpu_model, "t4");
  EXPECT_EQ(d.submit_s, 5);
  EXPECT_EQ(d.wait_s, 1);
  EXPECT_EQ(d.run_s, 4);
}

TEST(AlibabaPods, NeverScheduledOrNeverDeletedIsUnreplayable) {
  Result<Workload> r =
      Parse(Pods("a-1,1000,0,0,0,,,Pending,3,9,\n"
                 "a-2,1000,0,0,0,,,Running,3,,4\n"
                 "a-3,1000,0,0,0,,,Pending,3,,\n"
                 "a-4,1000,0,0,0,,,Running,3,9,4\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->unreplayable, 3);
  EXPECT_EQ(r->skipped, 0);
  ASSERT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->jobs[0].id, 4);
  EXPECT_EQ(r->jobs[0].run_s, 5);
  // Only unreplayable pods is a trace (as with SWF), if one with nothing to replay.
  Result<Workload> pending = Parse(Pods("a-1,1000,0,0,0,,,Pending,3,9,\n"));
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->jobs.empty());
  EXPECT_EQ(pending->unreplayable, 1);
}

TEST(AlibabaPods, CpusRoundUpToAtLeastOne) {
  Result<Workload> r =
      Parse(Pods("a-1,0,0,0,0,,,,0,1,0\n"
                 "a-2,1,0,0,0,,,,0,1,0\n"
                 "a-3,1000,0,0,0,,,,0,1,0\n"
                 "a-4,1001,0,0,0,,,,0,1,0\n"
                 "a-5,96000,0,0,0,,,,0,1,0\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->jobs.size(), 5u);
  EXPECT_EQ(r->jobs[0].procs, 1);
  EXPECT_EQ(r->jobs[1].procs, 1);
  EXPECT_EQ(r->jobs[2].procs, 1);
  EXPECT_EQ(r->jobs[3].procs, 2);
  EXPECT_EQ(r->jobs[4].procs, 96);
}

TEST(AlibabaPods, GpuShares) {
  Result<Workload> r =
      Parse(Pods("a-1,1000,0,1,0,,,,0,1,0\n"      // 0 milli of one: whole
                 "a-2,1000,0,1,1,,,,0,1,0\n"      // a share
                 "a-3,1000,0,1,999,,,,0,1,0\n"    // a share
                 "a-4,1000,0,1,1000,,,,0,1,0\n"   // whole
                 "a-5,1000,0,2,500,,,,0,1,0\n"    // shares only of one GPU
                 "a-6,1000,0,1,300,,,,0,1,\n"));  // a share, never scheduled
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->jobs.size(), 5u);
  EXPECT_EQ(r->jobs[0].gpu_milli, 1000);
  EXPECT_EQ(r->jobs[1].gpu_milli, 1);
  EXPECT_EQ(r->jobs[2].gpu_milli, 999);
  EXPECT_EQ(r->jobs[3].gpu_milli, 1000);
  EXPECT_EQ(r->jobs[4].gpu_milli, 1000);
  EXPECT_EQ(r->jobs[4].gpus, 2);
  EXPECT_EQ(r->fractional_gpus, 2);  // of the jobs; not the unreplayable pod
  EXPECT_EQ(r->unreplayable, 1);
}

TEST(AlibabaPods, GpuModels) {
  Result<Workload> r =
      Parse(Pods("a-1,1000,0,1,1000,A10,,,0,1,0\n"
                 "a-2,1000,0,1,1000,NaN,,,0,1,0\n"
                 "a-3,1000,0,1,1000,V100M16|V100M32|G2,,,0,1,0\n"
                 "a-4,1000,0,1,1000, P100 | |nan|T4 ,,,0,1,0\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->jobs.size(), 4u);
  EXPECT_EQ(r->jobs[0].gpu_model, "a10");
  EXPECT_EQ(r->jobs[1].gpu_model, "");
  EXPECT_EQ(r->jobs[2].gpu_model, "v100m16|v100m32|g2");
  EXPECT_EQ(r->jobs[3].gpu_model, "p100|t4");
}

TEST(AlibabaPods, ColumnsByName) {
  // Shuffled, upper case, an extra column, and without the optional name and gpu_spec.
  Result<Workload> r = Parse(
      "SCHEDULED_TIME,extra,deletion_time,creation_time,gpu_milli,num_gpu,memory_mib,cpu_milli\n"
      "15,x,25,10,500,1,2048,2500\n"
      "7,y,9,7,1000,4,0,8000\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->jobs.size(), 2u);
  const SimJob& a = r->jobs[0];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.submit_s, 10);
  EXPECT_EQ(a.wait_s, 5);
  EXPECT_EQ(a.run_s, 10);
  EXPECT_EQ(a.gpus, 1);
  EXPECT_EQ(a.gpu_milli, 500);
  EXPECT_EQ(a.mem_mib, 2048);
  EXPECT_EQ(a.procs, 3);
  EXPECT_EQ(a.gpu_model, "");
  EXPECT_EQ(r->jobs[1].id, 2);
  EXPECT_EQ(r->jobs[1].gpus, 4);
  EXPECT_EQ(r->jobs[1].run_s, 2);
}

TEST(AlibabaPods, HeaderProblems) {
  EXPECT_EQ(ErrorOf(Parse("name,cpu_milli,memory_mib,gpu_milli,creation_time,deletion_time,"
                          "scheduled_time\np-1,1,1,1,1,1,1\n")),
            "line 1: header: no \"num_gpu\" column");
  EXPECT_EQ(ErrorOf(Parse("\n\nname,cpu_milli\n")), "line 3: header: no \"memory_mib\" column");
  EXPECT_EQ(ErrorOf(Parse("cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time,deletion_time,"
                          "scheduled_time,num_gpu\n")),
            "line 1: header: column \"num_gpu\" twice");
  EXPECT_EQ(ErrorOf(Parse("")), "no jobs");
  EXPECT_EQ(ErrorOf(Parse(kHeader)), "no jobs");
  EXPECT_EQ(ErrorOf(Parse(Pods("\n\n  \n"))), "no jobs");
}

TEST(AlibabaPods, HostileInput) {
  EXPECT_EQ(ErrorOf(Parse(Pods("p-1,1000,0,0,0,,,,0,1,0\x01\n"))),
            "not a text file (binary content at line 2)");
  EXPECT_EQ(ErrorOf(Parse(std::string("name\0cpu", 8))),
            "not a text file (binary content at line 1)");
  EXPECT_EQ(ErrorOf(Parse(Pods("p-1,1000\n"))),
            "no jobs (1 malformed line skipped, the first: line 2: expected 11 fields (as the "
            "header), found 2)");

  EXPECT_EQ(SkippedOf("p-2,1000,99999999999999999999,0,0,,,,0,1,0\n"),
            "line 3: memory_mib: out of range: \"99999999999999999999\"");
  EXPECT_EQ(SkippedOf("p-2,1000,0,0,0,,,,-5,1,0\n"), "line 3: creation_time: negative: \"-5\"");
  EXPECT_EQ(SkippedOf("p-2,12.5,0,0,0,,,,0,1,0\n"), "line 3: cpu_milli: not an integer: \"12.5\"");
  EXPECT_EQ(SkippedOf("p-2,abc,0,0,0,,,,0,1,0\n"), "line 3: cpu_milli: not an integer: \"abc\"");
  EXPECT_EQ(SkippedOf("p-2,,0,0,0,,,,0,1,0\n"), "line 3: cpu_milli: empty");
  EXPECT_EQ(SkippedOf("p-2,1000,0,65,0,,,,0,1,0\n"), "line 3: num_gpu: out of range: 65 (0 to 64)");
  EXPECT_EQ(SkippedOf("p-2,1000,0,1,1001,,,,0,1,0\n"),
            "line 3: gpu_milli: out of range: 1001 (0 to 1000)");
  EXPECT_EQ(SkippedOf("p-2,1000,0,0,0,,,,10,20,5\n"),
            "line 3: scheduled_time: before creation_time (5 < 10)");
  EXPECT_EQ(SkippedOf("p-2,1000,0,0,0,,,,10,12,15\n"),
            "line 3: deletion_time: before scheduled_time (12 < 15)");
  EXPECT_EQ(SkippedOf("p-2,1000,0,0,0,,,,10,8,\n"),
            "line 3: deletion_time: before creation_time (8 < 10)");
  EXPECT_EQ(SkippedOf("p-2,1000,0,0,0,,,,0,1,0,extra\n"),
            "line 3: expected 11 fields (as the header), found 12");
  EXPECT_EQ(SkippedOf("p-2,9999999999999999,0,0,0,,,,0,1,0\n"),
            "line 3: cpu_milli: out of range: 9999999999999999 (over 2147483647 CPUs)");
  EXPECT_EQ(SkippedOf("p-2," + std::string(5000, '1') + ",0,0,0,,,,0,1,0\n"),
            "line 3: longer than 4096 bytes");
  EXPECT_EQ(SkippedOf("p-2,\"1000\",0,0,0,,,,0,1,0\n"),
            "line 3: cpu_milli: not an integer: \"\"1000\"\"");
}

TEST(AlibabaPods, LineEndsBlankLinesAndPandasIntegers) {
  Result<Workload> r = Parse(
      "\xEF\xBB\xBFname,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,"
      "creation_time,deletion_time,scheduled_time\r\n"
      "p-1,1000,16,1,1000,,LS,Running,0,10,0\r\n"
      "\r\n"
      "p-2,2000.0,16,1,500,,LS,Running,3.0,10.00,4\r\n"
      "p-3,1000,16,1,1000,,LS,Pending,3,nan,NaN\r\n"
      "\n\n\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lines, 8);
  EXPECT_EQ(r->skipped, 0);
  EXPECT_EQ(r->unreplayable, 1);
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[0].run_s, 10);
  EXPECT_EQ(r->jobs[1].id, 2);
  EXPECT_EQ(r->jobs[1].procs, 2);
  EXPECT_EQ(r->jobs[1].submit_s, 3);
  EXPECT_EQ(r->jobs[1].wait_s, 1);
  EXPECT_EQ(r->jobs[1].run_s, 6);
  EXPECT_EQ(r->jobs[1].line, 4);
}

TEST(AlibabaPods, StrictStopsAtTheFirstBadLine) {
  const std::string text = Pods(
      "p-1,1000,0,0,0,,,,0,1,0\n"
      "p-2,1000,0,0,0,,,,0,1,x\n"
      "p-3,1000,0,99,0,,,,0,1,0\n");
  EXPECT_EQ(ErrorOf(ParseStrict(text)), "line 3: scheduled_time: not an integer: \"x\"");
  Result<Workload> r = Parse(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->skipped, 2);
  ASSERT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(r->errors[1], "line 4: num_gpu: out of range: 99 (0 to 64)");

  AlibabaOptions few;
  few.max_errors = 1;
  Result<Workload> capped = ParseAlibaba(text, "", few);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->skipped, 2);
  EXPECT_EQ(capped->errors.size(), 1u);
}

TEST(AlibabaPods, LooksLike) {
  EXPECT_TRUE(LooksLikeAlibabaPods(kHeader));
  EXPECT_TRUE(LooksLikeAlibabaPods("num_gpu,cpu_milli,name\r\nrest"));
  EXPECT_FALSE(LooksLikeAlibabaPods("name,cpu_milli,gpu\n"));
  EXPECT_FALSE(LooksLikeAlibabaPods(kNodeHeader));
  EXPECT_FALSE(LooksLikeAlibabaPods("timestamp,duration,num_gpus,gpu_time,cluster\n"));
  EXPECT_FALSE(LooksLikeAlibabaPods("; MaxProcs: 100\n1 0 -1 5 1\n"));
  EXPECT_FALSE(LooksLikeAlibabaPods(""));
  EXPECT_FALSE(LooksLikeAlibabaPods("\nname,cpu_milli,num_gpu\n"));  // not the first line
}

// --- nodes ---

constexpr std::string_view kOnePod = "p-1,1000,0,0,0,,,,0,1,0\n";

TEST(AlibabaNodes, GroupsConsecutiveIdenticalNodes) {
  Result<Workload> r = Parse(Pods(kOnePod), std::string(kNodeHeader) +
                                                "n0,64000,262144,2,P100\n"
                                                "n1,64000,262144,2,P100\n"
                                                "n2,96000,786432,8,V100M32\n"
                                                "n3,64000,262144,2,p100\n"
                                                "n4,32000,262144,0,\n"
                                                "n5,500,1024,0,nan\r\n"
                                                "n6,1500,1024,0,\n\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<NodeGroup>& m = r->machine;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].count, 2);
  EXPECT_EQ(m[0].cpus, 64);
  EXPECT_EQ(m[0].mem_mib, 262144);
  EXPECT_EQ(m[0].gpus, 2);
  EXPECT_EQ(m[0].gpu_model, "p100");
  EXPECT_EQ(m[1].count, 1);
  EXPECT_EQ(m[1].cpus, 96);
  EXPECT_EQ(m[1].gpus, 8);
  EXPECT_EQ(m[1].gpu_model, "v100m32");
  EXPECT_EQ(m[2].count, 1);  // like the first group, but not next to it
  EXPECT_EQ(m[2].gpu_model, "p100");
  EXPECT_EQ(m[3].count, 1);
  EXPECT_EQ(m[3].cpus, 32);
  EXPECT_EQ(m[3].gpus, 0);
  EXPECT_EQ(m[3].gpu_model, "");
  EXPECT_EQ(m[4].count, 2);  // 500 milli is at least one CPU; 1500 milli is one
  EXPECT_EQ(m[4].cpus, 1);
  EXPECT_EQ(m[4].mem_mib, 1024);
}

TEST(AlibabaNodes, ColumnsByName) {
  Result<Workload> r = Parse(Pods(kOnePod), "model,gpu,memory_mib,cpu_milli\nT4,2,100,8000\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->machine.size(), 1u);
  EXPECT_EQ(r->machine[0].cpus, 8);
  EXPECT_EQ(r->machine[0].gpus, 2);
  EXPECT_EQ(r->machine[0].mem_mib, 100);
  EXPECT_EQ(r->machine[0].gpu_model, "t4");
}

TEST(AlibabaNodes, ABadNodeLineIsAnError) {
  const std::string pods = Pods(kOnePod);
  const std::string h(kNodeHeader);
  EXPECT_EQ(ErrorOf(Parse(pods, h + "n0,64000,262144,2,P100\nn1,64000,262144,x,P100\n")),
            "nodes line 3: gpu: not an integer: \"x\"");
  EXPECT_EQ(ErrorOf(Parse(pods, h + "n0,64000,262144,65,P100\n")),
            "nodes line 2: gpu: out of range: 65 (0 to 64)");
  EXPECT_EQ(ErrorOf(Parse(pods, h + "n0,-1,262144,2,P100\n")),
            "nodes line 2: cpu_milli: negative: \"-1\"");
  EXPECT_EQ(ErrorOf(Parse(pods, h + "n0,64000,99999999999999999999,2,P100\n")),
            "nodes line 2: memory_mib: out of range: \"99999999999999999999\"");
  EXPECT_EQ(ErrorOf(Parse(pods, h + "n0,64000\n")),
            "nodes line 2: expected 5 fields (as the header), found 2");
  EXPECT_EQ(ErrorOf(Parse(pods, "sn,cpu_milli,memory_mib,gpu\nn0,1,1,1\n")),
            "nodes line 1: header: no \"model\" column");
  EXPECT_EQ(ErrorOf(Parse(pods, h)), "nodes: no nodes");
  EXPECT_EQ(ErrorOf(Parse(pods, "\x7f\x45LF")),
            "nodes: not a text file (binary content at line 1)");
  // Not even under strict=false does a bad node line pass: the machine would be wrong.
  AlibabaOptions lax;
  lax.strict = false;
  EXPECT_FALSE(ParseAlibaba(pods, h + "n0,1,1,1\n", lax).ok());
}

// --- files ---

TEST(AlibabaFiles, DirectoryFileAndNodeList) {
  TempDir dir;
  const std::string pods = Pods("p-7,1000,0,1,1000,,,,0,5,1\n");
  const std::string nodes = std::string(kNodeHeader) + "n0,8000,100,8,G2\nn1,8000,100,8,G2\n";
  WriteBytes(dir.File(std::string(kAlibabaPodFile)), pods);

  // The directory without a node list: no machine.
  Result<Workload> bare = ReadAlibaba(dir.path(), "", AlibabaOptions{});
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  ASSERT_EQ(bare->jobs.size(), 1u);
  EXPECT_EQ(bare->jobs[0].id, 7);
  EXPECT_TRUE(bare->machine.empty());

  // With its default node list.
  WriteBytes(dir.File(std::string(kAlibabaNodeFile)), nodes);
  Result<Workload> full = ReadAlibaba(dir.path(), "", AlibabaOptions{});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_EQ(full->machine.size(), 1u);
  EXPECT_EQ(full->machine[0].count, 2);
  EXPECT_EQ(full->machine[0].gpu_model, "g2");

  // Another node list instead; a pod list file alone has none; gzip is read too.
  const std::string other = dir.File("other.csv");
  WriteBytes(other, std::string(kNodeHeader) + "n0,8000,100,4,T4\n");
  Result<Workload> swapped = ReadAlibaba(dir.path(), other, AlibabaOptions{});
  ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
  ASSERT_EQ(swapped->machine.size(), 1u);
  EXPECT_EQ(swapped->machine[0].gpu_model, "t4");
  Result<Workload> file = ReadAlibaba(dir.File(std::string(kAlibabaPodFile)), "", AlibabaOptions{});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->machine.empty());
  const std::string gz = dir.File("pods.csv.gz");
  WriteGzip(gz, pods);
  Result<Workload> zipped = ReadAlibaba(gz, other, AlibabaOptions{});
  ASSERT_TRUE(zipped.ok()) << zipped.status().ToString();
  EXPECT_EQ(zipped->jobs.size(), 1u);
  EXPECT_EQ(zipped->machine.size(), 1u);
}

TEST(AlibabaFiles, ErrorsNameTheFile) {
  TempDir dir;
  const std::string pods = dir.File("pods.csv");
  const std::string nodes = dir.File("nodes.csv");
  WriteBytes(pods, Pods("p-1,1000,0,0,0,,,,0,1,0\np-2,x,0,0,0,,,,0,1,0\n"));
  WriteBytes(nodes, std::string(kNodeHeader) + "n0,1,1,1,a\nn1,1,1,-1,a\n");
  AlibabaOptions strict;
  strict.strict = true;
  EXPECT_EQ(ErrorOf(ReadAlibaba(pods, "", strict)),
            pods + ": line 3: cpu_milli: not an integer: \"x\"");
  EXPECT_EQ(ErrorOf(ReadAlibaba(pods, nodes, AlibabaOptions{})),
            nodes + ": line 3: gpu: negative: \"-1\"");
  EXPECT_EQ(ErrorOf(ReadAlibaba(dir.File("absent.csv"), "", AlibabaOptions{})),
            dir.File("absent.csv") + ": No such file or directory");
  EXPECT_EQ(ErrorOf(ReadAlibaba(dir.path(), "", AlibabaOptions{})),
            dir.File(std::string(kAlibabaPodFile)) + ": No such file or directory");
  WriteBytes(dir.File("empty.csv"), "");
  EXPECT_EQ(ErrorOf(ReadAlibaba(dir.File("empty.csv"), "", AlibabaOptions{})),
            dir.File("empty.csv") + ": no jobs");
  EXPECT_EQ(ErrorOf(ReadAlibaba(pods, dir.File("empty.csv"), AlibabaOptions{})),
            dir.File("empty.csv") + ": no nodes");
}

// --- the real trace ---

std::string TraceDir() {
  if (const char* env = getenv("CORRAL_TRACES"); env != nullptr && *env != '\0') {
    return std::string(env) + "/alibaba-gpu-v2023";
  }
  return CORRAL_SOURCE_DIR "/../shared/data/traces/alibaba-gpu-v2023";
}

int64_t Nodes(const std::vector<NodeGroup>& m) {
  int64_t n = 0;
  for (const NodeGroup& g : m) n += g.count;
  return n;
}

int64_t Gpus(const std::vector<NodeGroup>& m) {
  int64_t n = 0;
  for (const NodeGroup& g : m) n += static_cast<int64_t>(g.count) * g.gpus;
  return n;
}

TEST(AlibabaTrace, DefaultPodsAndGpuNodes) {
  const std::string dir = TraceDir();
  if (!std::filesystem::exists(dir + "/" + std::string(kAlibabaPodFile))) {
    GTEST_SKIP() << dir << " is absent";
  }
  Result<Workload> r = ReadAlibaba(dir, "", AlibabaOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Workload& w = *r;
  std::printf(
      "alibaba: jobs %zu, unreplayable %lld, skipped %lld, fractional %lld, lines %lld, "
      "node groups %zu\n",
      w.jobs.size(), static_cast<long long>(w.unreplayable), static_cast<long long>(w.skipped),
      static_cast<long long>(w.fractional_gpus), static_cast<long long>(w.lines), w.machine.size());
  EXPECT_EQ(w.skipped, 0) << (w.errors.empty() ? "" : w.errors[0]);
  EXPECT_EQ(static_cast<int64_t>(w.jobs.size()) + w.unreplayable, 8152 - w.skipped);
  EXPECT_EQ(w.jobs.size(), 7255u);
  EXPECT_EQ(w.unreplayable, 897);  // the Pending pods
  EXPECT_EQ(w.fractional_gpus, 2573);
  EXPECT_EQ(w.lines, 8153);
  ASSERT_FALSE(w.jobs.empty());
  EXPECT_EQ(w.jobs.front().id, 0);  // openb-pod-0000
  EXPECT_EQ(w.jobs.front().submit_s, 0);
  for (const SimJob& j : w.jobs) {
    ASSERT_GE(j.submit_s, 0) << "line " << j.line;
    ASSERT_GE(j.wait_s, 0) << "line " << j.line;
    ASSERT_GE(j.run_s, 0) << "line " << j.line;
    ASSERT_GE(j.procs, 1) << "line " << j.line;
    ASSERT_LE(j.gpus, 8) << "line " << j.line;
  }
  EXPECT_EQ(Nodes(w.machine), 1213);
  EXPECT_EQ(Gpus(w.machine), 6212);
  EXPECT_EQ(w.machine.size(), 405u);  // the list is not sorted by kind
}

TEST(AlibabaTrace, AllNodes) {
  const std::string dir = TraceDir();
  const std::string all = dir + "/openb_node_list_all_node.csv";
  if (!std::filesystem::exists(all)) GTEST_SKIP() << all << " is absent";
  Result<Workload> r = ReadAlibaba(dir, all, AlibabaOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Nodes(r->machine), 1523);
  EXPECT_EQ(Gpus(r->machine), 6212);  // the 310 CPU-only nodes add none
  int64_t cpu_only = 0;
  for (const NodeGroup& g : r->machine) {
    if (g.gpus == 0) {
      cpu_only += g.count;
      EXPECT_EQ(g.gpu_model, "");
    }
  }
  EXPECT_EQ(cpu_only, 310);
}

}  // namespace
}  // namespace corral::sim
