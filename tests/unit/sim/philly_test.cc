// The Philly reader (the Pollux artifact's philly.csv): the fields it maps, UTC timestamps
// relative to the earliest, the lines it skips or refuses and the messages it gives for them,
// plain and gzip files, and the real trace in shared/data/traces when present.
#include "sched/sim/philly.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace corral::sim {
namespace {

constexpr std::string_view kHeader = "timestamp,duration,num_gpus,gpu_time,cluster\n";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/corral-philly-XXXXXX";
    if (char* made = mkdtemp(tmpl)) path_ = made;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
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

std::string Rows(std::string_view rows) {
  return std::string(kHeader) + std::string(rows);
}

Result<Workload> Parse(std::string_view text) {
  return ParsePhilly(text, PhillyOptions{});
}

Result<Workload> ParseStrict(std::string_view text) {
  PhillyOptions o;
  o.strict = true;
  return ParsePhilly(text, o);
}

std::string ErrorOf(const Result<Workload>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  return r.status().message();
}

// The one message of a parse that skips exactly one line (and keeps the good one).
std::string SkippedOf(std::string_view bad_row) {
  Result<Workload> r = Parse(Rows("2017-10-09 07:01:55,66.0,1,66.0,c\n" + std::string(bad_row)));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->skipped, 1);
  return r->errors.empty() ? "" : r->errors[0];
}

TEST(PhillyDates, DaysFromCivil) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 2, 29), 11016);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2017, 10, 9), 17448);
  EXPECT_EQ(DaysFromCivil(2100, 3, 1), 47541);
  EXPECT_EQ(DaysFromCivil(1600, 1, 1), -135140);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), 2932896);
}

TEST(PhillyRows, MapsTheFields) {
  // Not in time order: the earliest (the third row) submits at 0.
  Result<Workload> r =
      Parse(Rows("2017-10-09 07:01:55,66.0,1,66.0,11cb48\n"
                 "2017-10-09 06:13:03,2951.4,4,11805.6,6214e9\n"
                 "2017-09-29 07:58:32,860662.5,8,6885300.0,6c71a0\n"
                 "2017-10-09 06:13:36,0.49,1,0.49,6214e9\n"
                 "2017-09-30 00:00:00,10,0,0,6214e9\n"));  // no GPU: unreplayable
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Workload& w = *r;
  EXPECT_EQ(w.format, "philly");
  EXPECT_EQ(w.lines, 6);
  EXPECT_EQ(w.skipped, 0);
  EXPECT_EQ(w.unreplayable, 1);
  EXPECT_EQ(w.fractional_gpus, 0);
  EXPECT_TRUE(w.machine.empty());
  ASSERT_EQ(w.jobs.size(), 4u);

  const SimJob& a = w.jobs[0];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.line, 2);
  EXPECT_EQ(a.submit_s, 10 * 86400 - (56 * 60 + 37));  // 09-29 07:58:32 to 10-09 07:01:55
  EXPECT_EQ(a.wait_s, -1);
  EXPECT_EQ(a.run_s, 66);
  EXPECT_EQ(a.req_time_s, -1);
  EXPECT_EQ(a.gpus, 1);
  EXPECT_EQ(a.procs, 1);
  EXPECT_EQ(a.nodes, 0);
  EXPECT_EQ(a.gpu_milli, 1000);
  EXPECT_EQ(a.gpu_model, "");
  EXPECT_EQ(a.user, -1);

  EXPECT_EQ(w.jobs[1].id, 2);
  EXPECT_EQ(w.jobs[1].run_s, 2951);
  EXPECT_EQ(w.jobs[1].gpus, 4);
  EXPECT_EQ(w.jobs[1].procs, 4);
  EXPECT_EQ(w.jobs[2].id, 3);
  EXPECT_EQ(w.jobs[2].submit_s, 0);
  EXPECT_EQ(w.jobs[2].run_s, 860663);  // .5 rounds away from zero
  EXPECT_EQ(w.jobs[2].gpus, 8);
  EXPECT_EQ(w.jobs[3].run_s, 0);
  EXPECT_EQ(w.jobs[3].submit_s, w.jobs[0].submit_s - (48 * 60 + 19));
}

TEST(PhillyRows, ColumnsByName) {
  Result<Workload> r = Parse(
      "cluster,NUM_GPUS,extra,Duration,timestamp\n"
      "x,2,,100,2017-10-01 00:00:10\n"
      "y,16,,5.0,2017-10-01T00:00:00\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[0].submit_s, 10);
  EXPECT_EQ(r->jobs[0].gpus, 2);
  EXPECT_EQ(r->jobs[0].run_s, 100);
  EXPECT_EQ(r->jobs[1].submit_s, 0);
  EXPECT_EQ(r->jobs[1].gpus, 16);
  EXPECT_EQ(r->jobs[1].run_s, 5);
}

TEST(PhillyRows, HeaderProblems) {
  EXPECT_EQ(ErrorOf(Parse("timestamp,duration,gpu_time\n2017-10-01 00:00:00,1,1\n")),
            "line 1: header: no \"num_gpus\" column");
  EXPECT_EQ(ErrorOf(Parse("timestamp,duration,num_gpus,duration\n")),
            "line 1: header: column \"duration\" twice");
  EXPECT_EQ(ErrorOf(Parse("")), "no jobs");
  EXPECT_EQ(ErrorOf(Parse(kHeader)), "no jobs");
  EXPECT_EQ(ErrorOf(Parse(Rows("\n\r\n"))), "no jobs");
}

TEST(PhillyRows, HostileInput) {
  EXPECT_EQ(ErrorOf(Parse(Rows("2017-10-01 00:00:00,1\x02,1,1,c\n"))),
            "not a text file (binary content at line 2)");
  EXPECT_EQ(ErrorOf(Parse(std::string("\x1f\x8b\x08\0", 4))),
            "not a text file (binary content at line 1)");
  EXPECT_EQ(ErrorOf(Parse(Rows("2017-10-01 00:00:00,1\n"))),
            "no jobs (1 malformed line skipped, the first: line 2: expected 5 fields (as the "
            "header), found 2)");

  EXPECT_EQ(SkippedOf("2017-13-40 00:00:00,1,1,1,c\n"),
            "line 3: timestamp: no such date: \"2017-13-40 00:00:00\"");
  EXPECT_EQ(SkippedOf("2017-02-29 00:00:00,1,1,1,c\n"),
            "line 3: timestamp: no such date: \"2017-02-29 00:00:00\"");
  EXPECT_EQ(SkippedOf("2017-00-10 00:00:00,1,1,1,c\n"),
            "line 3: timestamp: no such date: \"2017-00-10 00:00:00\"");
  EXPECT_EQ(SkippedOf("2017-10-09 24:00:00,1,1,1,c\n"),
            "line 3: timestamp: no such time: \"2017-10-09 24:00:00\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:60:00,1,1,1,c\n"),
            "line 3: timestamp: no such time: \"2017-10-09 07:60:00\"");
  EXPECT_EQ(SkippedOf("2017-10-9 07:01:55,1,1,1,c\n"),
            "line 3: timestamp: not YYYY-MM-DD HH:MM:SS: \"2017-10-9 07:01:55\"");
  EXPECT_EQ(SkippedOf("2017-1x-09 07:01:55,1,1,1,c\n"),
            "line 3: timestamp: not YYYY-MM-DD HH:MM:SS: \"2017-1x-09 07:01:55\"");
  EXPECT_EQ(SkippedOf("1507532515,1,1,1,c\n"),
            "line 3: timestamp: not YYYY-MM-DD HH:MM:SS: \"1507532515\"");
  EXPECT_EQ(SkippedOf(",1,1,1,c\n"), "line 3: timestamp: empty");

  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,nan,1,1,c\n"), "line 3: duration: not finite: \"nan\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,inf,1,1,c\n"), "line 3: duration: not finite: \"inf\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,-INFINITY,1,1,c\n"),
            "line 3: duration: not finite: \"-INFINITY\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,-5.0,1,1,c\n"), "line 3: duration: negative: \"-5.0\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,1e400,1,1,c\n"),
            "line 3: duration: out of range: \"1e400\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,99999999999999999999,1,1,c\n"),
            "line 3: duration: out of range: \"99999999999999999999\" (over 1e12 seconds)");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,12s,1,1,c\n"),
            "line 3: duration: not a number: \"12s\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,,1,1,c\n"), "line 3: duration: empty");

  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,1,99999999999999999999,1,c\n"),
            "line 3: num_gpus: out of range: \"99999999999999999999\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,1,1025,1,c\n"),
            "line 3: num_gpus: out of range: 1025 (0 to 1024)");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,1,-1,1,c\n"), "line 3: num_gpus: negative: \"-1\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,1,1.5,1,c\n"),
            "line 3: num_gpus: not an integer: \"1.5\"");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,1,1,1,c,extra\n"),
            "line 3: expected 5 fields (as the header), found 6");
  EXPECT_EQ(SkippedOf("2017-10-09 07:01:55,1,1,1," + std::string(5000, 'c') + "\n"),
            "line 3: longer than 4096 bytes");
}

TEST(PhillyRows, LineEndsAndBlankLines) {
  Result<Workload> r = Parse(
      "\xEF\xBB\xBFtimestamp,duration,num_gpus\r\n"
      "2000-02-29 23:59:59,1.0,1\r\n"
      "\r\n"
      "2000-03-01 00:00:00,2.0,8.0\r\n"
      "\n\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lines, 6);
  EXPECT_EQ(r->skipped, 0);
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[0].submit_s, 0);
  EXPECT_EQ(r->jobs[1].submit_s, 1);  // over the leap day
  EXPECT_EQ(r->jobs[1].id, 2);
  EXPECT_EQ(r->jobs[1].line, 4);
  EXPECT_EQ(r->jobs[1].gpus, 8);
}

TEST(PhillyRows, StrictStopsAtTheFirstBadLine) {
  const std::string text = Rows(
      "2017-10-09 07:01:55,66.0,1,66.0,c\n"
      "2017-10-09 07:01:55,NaN,1,66.0,c\n"
      "2017-13-40 07:01:55,66.0,1,66.0,c\n");
  EXPECT_EQ(ErrorOf(ParseStrict(text)), "line 3: duration: not finite: \"NaN\"");
  Result<Workload> r = Parse(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->skipped, 2);
  ASSERT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(r->errors[1], "line 4: timestamp: no such date: \"2017-13-40 07:01:55\"");
  PhillyOptions few;
  few.max_errors = 0;
  Result<Workload> capped = ParsePhilly(text, few);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->skipped, 2);
  EXPECT_TRUE(capped->errors.empty());
}

TEST(PhillyRows, OnlyZeroGpuRows) {
  Result<Workload> r = Parse(Rows("2017-10-09 07:01:55,66.0,0,0,c\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->jobs.empty());
  EXPECT_EQ(r->unreplayable, 1);
}

TEST(PhillyRows, LooksLike) {
  EXPECT_TRUE(LooksLikePhilly(kHeader));
  EXPECT_TRUE(LooksLikePhilly("num_gpus,duration,timestamp\r\n"));
  EXPECT_FALSE(LooksLikePhilly("timestamp,duration\n"));
  EXPECT_FALSE(LooksLikePhilly("name,cpu_milli,memory_mib,num_gpu,gpu_milli\n"));
  EXPECT_FALSE(LooksLikePhilly("; MaxProcs: 100\n"));
  EXPECT_FALSE(LooksLikePhilly(""));
}

TEST(PhillyFiles, PlainGzipAndErrors) {
  TempDir dir;
  const std::string text = Rows("2017-10-09 07:01:55,66.0,2,132.0,c\n");
  const std::string plain = dir.File("philly.csv");
  const std::string gz = dir.File("philly.csv.gz");
  WriteBytes(plain, text);
  WriteGzip(gz, text);
  for (const std::string& path : {plain, gz}) {
    Result<Workload> r = ReadPhilly(path, PhillyOptions{});
    ASSERT_TRUE(r.ok()) << path << ": " << r.status().ToString();
    ASSERT_EQ(r->jobs.size(), 1u);
    EXPECT_EQ(r->jobs[0].gpus, 2);
    EXPECT_EQ(r->jobs[0].run_s, 66);
  }
  const std::string bad = dir.File("bad.csv");
  WriteBytes(bad, Rows("2017-10-09 07:01:55,x,2,132.0,c\n"));
  PhillyOptions strict;
  strict.strict = true;
  EXPECT_EQ(ErrorOf(ReadPhilly(bad, strict)), bad + ": line 2: duration: not a number: \"x\"");
  EXPECT_EQ(ErrorOf(ReadPhilly(dir.File("absent.csv"), PhillyOptions{})),
            dir.File("absent.csv") + ": No such file or directory");
  const std::string cut = dir.File("cut.csv.gz");
  WriteBytes(cut, std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8));
  EXPECT_EQ(ErrorOf(ReadPhilly(cut, PhillyOptions{})), cut + ": corrupt gzip data (truncated)");
}

// --- the real trace ---

std::string TracePath() {
  if (const char* env = getenv("CORRAL_TRACES"); env != nullptr && *env != '\0') {
    return std::string(env) + "/philly/philly.csv.gz";
  }
  return CORRAL_SOURCE_DIR "/../shared/data/traces/philly/philly.csv.gz";
}

TEST(PhillyTrace, PolluxPhilly) {
  const std::string path = TracePath();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  Result<Workload> r = ReadPhilly(path, PhillyOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Workload& w = *r;
  int64_t latest = 0, gpus = 0, run = 0;
  int32_t widest = 0;
  const SimJob* first = nullptr;
  for (const SimJob& j : w.jobs) {
    ASSERT_GE(j.submit_s, 0) << "line " << j.line;
    ASSERT_GE(j.run_s, 0) << "line " << j.line;
    ASSERT_GE(j.gpus, 1) << "line " << j.line;
    latest = std::max(latest, j.submit_s);
    widest = std::max(widest, j.gpus);
    gpus += j.gpus;
    run += j.run_s;
    if (j.submit_s == 0 && first == nullptr) first = &j;
  }
  std::printf(
      "philly: jobs %zu, unreplayable %lld, skipped %lld, lines %lld, span %lld s, "
      "widest %d GPUs, GPUs %lld, run %lld s\n",
      w.jobs.size(), static_cast<long long>(w.unreplayable), static_cast<long long>(w.skipped),
      static_cast<long long>(w.lines), static_cast<long long>(latest), widest,
      static_cast<long long>(gpus), static_cast<long long>(run));
  EXPECT_EQ(static_cast<int64_t>(w.jobs.size()) + w.unreplayable + w.skipped, 82247);
  EXPECT_EQ(w.skipped, 0) << (w.errors.empty() ? "" : w.errors[0]);
  EXPECT_EQ(w.unreplayable, 0);
  EXPECT_EQ(w.lines, 82249);  // the header, the rows and a blank last line
  ASSERT_NE(first, nullptr) << "no job submits at 0";
  EXPECT_EQ(first->id, 31567);             // 2017-09-04 10:30:41
  EXPECT_EQ(latest, 9408690);              // 2017-12-22 08:02:11
  EXPECT_EQ(w.jobs[0].submit_s, 3011474);  // 2017-10-09 07:01:55
  EXPECT_EQ(widest, 128);
  EXPECT_EQ(gpus, 107235);
  EXPECT_EQ(run, 1080390950);
}

}  // namespace
}  // namespace corral::sim
