// The SWF reader: the fields it maps, the lines it skips or refuses and the messages it gives
// for them, gzip and plain files, and the real traces in shared/data/traces when present.
#include "sched/sim/swf.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace corral::sim {
namespace {

// A fresh directory under /tmp for one test, removed with what is in it at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/corral-swf-XXXXXX";
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

// Writes `text` gzipped with zlib's own gz* calls.
void WriteGzip(const std::string& path, std::string_view text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr) << path;
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A well-formed job line: id, submit, run, allocated procs, the rest -1.
std::string Job(int id, int submit, int run, int procs) {
  return std::to_string(id) + " " + std::to_string(submit) + " -1 " + std::to_string(run) + " " +
         std::to_string(procs) + " -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n";
}

Result<SwfTrace> Parse(std::string_view text) {
  return ParseSwf(text, SwfOptions{});
}

Result<SwfTrace> ParseStrict(std::string_view text) {
  SwfOptions o;
  o.strict = true;
  return ParseSwf(text, o);
}

// The message of a parse that must fail.
std::string ErrorOf(const Result<SwfTrace>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  return r.status().message();
}

// The one message non-strict parsing of `bad_line` after a good line gives (line 2).
std::string SkippedMessage(const std::string& bad_line) {
  Result<SwfTrace> r = Parse(Job(1, 0, 10, 1) + bad_line);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->errors.size(), 1u);
  return r->errors.empty() ? "" : r->errors[0];
}

// --- what a good trace gives ---

TEST(SwfParse, HeaderFields) {
  Result<SwfTrace> r = Parse(
      "; Version: 2.2\n"
      "; MaxNodes: 256   (the whole machine)\n"
      "  \t;MaxProcs:512\n"
      "; maxprocs: 7\n" +
      Job(1, 0, 10, 1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_nodes, 256);
  EXPECT_EQ(r->max_procs, 512);
  EXPECT_EQ(r->lines, 5);
}

TEST(SwfParse, HeaderAbsentIsUnknown) {
  Result<SwfTrace> r = Parse("; Note: MaxProcs: 12 is not a key here\n" + Job(1, 0, 10, 1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_procs, -1);
  EXPECT_EQ(r->max_nodes, -1);
}

TEST(SwfParse, ThreeJobsGiveTheirFields) {
  Result<SwfTrace> r = Parse(
      "; MaxProcs: 100\n"
      "1 0 5 100 4 -1 -1 4 3600 -1 1 7 3 -1 -1 -1 -1 -1\n"
      "   2   30  -1   0   16  12  2048  32 60 -1 0 8 3 2 1 1 -1 -1\n"
      "3\t45\t120\t7\t1\t-1\t-1\t-1\t-1\t-1\t5\t-1\t-1\t-1\t-1\t-1\t2\t30\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->jobs.size(), 3u);
  EXPECT_EQ(r->lines, 4);
  EXPECT_EQ(r->skipped, 0);
  EXPECT_EQ(r->unreplayable, 0);
  EXPECT_TRUE(r->errors.empty());

  const SwfJob& a = r->jobs[0];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.submit_s, 0);
  EXPECT_EQ(a.wait_s, 5);
  EXPECT_EQ(a.run_s, 100);
  EXPECT_EQ(a.procs, 4);
  EXPECT_EQ(a.req_time_s, 3600);
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.user, 7);
  EXPECT_EQ(a.line, 2);

  const SwfJob& b = r->jobs[1];
  EXPECT_EQ(b.id, 2);
  EXPECT_EQ(b.submit_s, 30);
  EXPECT_EQ(b.wait_s, -1);
  EXPECT_EQ(b.run_s, 0);
  EXPECT_EQ(b.procs, 16);  // allocated wins over requested
  EXPECT_EQ(b.req_time_s, 60);
  EXPECT_EQ(b.status, 0);
  EXPECT_EQ(b.user, 8);
  EXPECT_EQ(b.line, 3);

  const SwfJob& c = r->jobs[2];
  EXPECT_EQ(c.id, 3);
  EXPECT_EQ(c.submit_s, 45);
  EXPECT_EQ(c.wait_s, 120);
  EXPECT_EQ(c.run_s, 7);
  EXPECT_EQ(c.procs, 1);
  EXPECT_EQ(c.req_time_s, -1);
  EXPECT_EQ(c.status, 5);
  EXPECT_EQ(c.user, -1);
  EXPECT_EQ(c.line, 4);
}

TEST(SwfParse, ProcsFallBackToRequested) {
  Result<SwfTrace> r = Parse(
      "1 0 -1 10 -1 -1 -1 8 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"
      "2 0 -1 10 0 -1 -1 3 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[0].procs, 8);
  EXPECT_EQ(r->jobs[1].procs, 3);
}

TEST(SwfParse, UnreplayableCountedNotKept) {
  Result<SwfTrace> r = Parse(Job(1, 0, 10, 2) +
                             "2 5 -1 -1 4 -1 -1 4 -1 -1 0 -1 -1 -1 -1 -1 -1 -1\n"    // no run time
                             "3 6 -1 10 -1 -1 -1 -1 -1 -1 0 -1 -1 -1 -1 -1 -1 -1\n"  // no procs
                             "4 7 -1 10 0 -1 -1 0 -1 -1 0 -1 -1 -1 -1 -1 -1 -1\n" +  // zero procs
                             Job(5, 8, 3, 1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->unreplayable, 3);
  EXPECT_EQ(r->skipped, 0);
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[0].id, 1);
  EXPECT_EQ(r->jobs[1].id, 5);
  EXPECT_EQ(r->jobs[1].line, 5);
}

TEST(SwfParse, OnlyUnreplayableIsNotAnError) {
  Result<SwfTrace> r = Parse("2 5 -1 -1 4 -1 -1 4 -1 -1 0 -1 -1 -1 -1 -1 -1 -1\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->jobs.empty());
  EXPECT_EQ(r->unreplayable, 1);
}

TEST(SwfParse, BlankLinesAndCrlf) {
  std::string text = "; MaxProcs: 64\r\n\r\n   \r\n\t\n" + Job(1, 0, 10, 2);
  text.insert(text.size() - 1, "\r");  // the job line ends "\r\n"
  text += "\n" + Job(2, 3, 4, 5);
  text.pop_back();  // and the last line has no line end at all
  Result<SwfTrace> r = ParseStrict(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_procs, 64);
  EXPECT_EQ(r->lines, 7);
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[0].line, 5);
  EXPECT_EQ(r->jobs[0].user, -1);  // the "\r" did not stick to the last field
  EXPECT_EQ(r->jobs[1].line, 7);
  EXPECT_EQ(r->jobs[1].procs, 5);
}

TEST(SwfParse, DecimalsOnlyInCpuTimeAndMemory) {
  Result<SwfTrace> ok = ParseStrict("1 0 -1 10 2 12.5 1024.75 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->jobs.size(), 1u);
  EXPECT_EQ(ErrorOf(ParseStrict("1 0 -1 10.5 2 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n")),
            "line 1: field 4 (run time): not an integer: \"10.5\"");
  EXPECT_EQ(ErrorOf(ParseStrict("1 0 -1 10 2 1.2.3 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n")),
            "line 1: field 6 (average cpu time): not a number: \"1.2.3\"");
  EXPECT_EQ(ErrorOf(ParseStrict("1 0 -1 10 2 -1 -3.5 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n")),
            "line 1: field 7 (used memory): below -1: \"-3.5\"");
}

// --- hostile input ---

TEST(SwfHostile, WrongFieldCount) {
  EXPECT_EQ(SkippedMessage("1 2 3\n"), "line 2: expected 18 fields, found 3");
  EXPECT_EQ(SkippedMessage(Job(2, 0, 1, 1).insert(0, "9 ")),
            "line 2: expected 18 fields, found 19");
}

TEST(SwfHostile, NonNumericField) {
  EXPECT_EQ(SkippedMessage("1 0 abc 10 1 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 3 (wait time): not an integer: \"abc\"");
  EXPECT_EQ(SkippedMessage("1 0 -1 10 1 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 +5\n"),
            "line 2: field 18 (think time): not an integer: \"+5\"");
  EXPECT_EQ(SkippedMessage("1 0 -1 10 4x -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 5 (allocated procs): not an integer: \"4x\"");
}

TEST(SwfHostile, HugeNumbersAreOutOfRange) {
  std::string huge;
  for (int i = 0; i < 18; ++i) huge += "99999999999999999999 ";
  EXPECT_EQ(SkippedMessage(huge + "\n"),
            "line 2: field 1 (job id): out of range: \"99999999999999999999\"");
  EXPECT_EQ(SkippedMessage("1 0 -1 99999999999999999999 1 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 4 (run time): out of range: \"99999999999999999999\"");
  // int64 is fine for times, but not for a processor count.
  EXPECT_EQ(SkippedMessage("1 0 -1 10 2147483648 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 5 (allocated procs): out of range: 2147483648 is over 2147483647");
  EXPECT_EQ(SkippedMessage("1 0 -1 10 -1 -1 -1 4294967297 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 8 (requested procs): out of range: 4294967297 is over 2147483647");
  Result<SwfTrace> big = Parse("1 0 -1 10 2147483647 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->jobs[0].procs, 2147483647);
}

TEST(SwfHostile, LongTokenIsCutInTheMessage) {
  const std::string digits(3000, '7');
  EXPECT_EQ(SkippedMessage(digits + " 0 -1 10 1 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 1 (job id): out of range: \"" + std::string(32, '7') + "...\"");
}

TEST(SwfHostile, NegativeSubmitAndBelowMinusOne) {
  EXPECT_EQ(SkippedMessage("1 -5 -1 10 1 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 2 (submit time): negative: -5");
  EXPECT_EQ(SkippedMessage("1 -1 -1 10 1 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 2 (submit time): negative: -1");
  EXPECT_EQ(SkippedMessage("1 0 -2 10 1 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 3 (wait time): below -1: -2");
  EXPECT_EQ(SkippedMessage("1 0 -1 10 1 -1 -1 -1 -1 -1 1 -9 -1 -1 -1 -1 -1 -1\n"),
            "line 2: field 12 (user id): below -1: -9");
  // The job id may be anything.
  Result<SwfTrace> r = Parse("-7 0 -1 10 1 -1 -1 -1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs[0].id, -7);
}

TEST(SwfHostile, LineOver4096Bytes) {
  std::string exact = Job(2, 0, 10, 1);
  exact.insert(0, 4096 - (exact.size() - 1), ' ');  // 4096 bytes before "\n": still read
  ASSERT_EQ(exact.size(), 4097u);
  Result<SwfTrace> r = ParseStrict(Job(1, 0, 10, 1) + exact);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs.size(), 2u);

  EXPECT_EQ(SkippedMessage(" " + exact), "line 2: longer than 4096 bytes");
  EXPECT_EQ(SkippedMessage(std::string(1 << 20, 'x') + "\n"), "line 2: longer than 4096 bytes");
}

TEST(SwfHostile, BinaryContentIsNotText) {
  std::string text = Job(1, 0, 10, 1) + Job(2, 0, 10, 1);
  text += std::string("3 0 -1 10 1\0 -1", 15) + "\n";
  EXPECT_EQ(ErrorOf(Parse(text)), "not a text file (binary content at line 3)");
  EXPECT_EQ(ErrorOf(ParseStrict(text)), "not a text file (binary content at line 3)");
  EXPECT_EQ(ErrorOf(Parse("; header \x01\n" + Job(1, 0, 10, 1))),
            "not a text file (binary content at line 1)");
  EXPECT_EQ(ErrorOf(Parse(Job(1, 0, 10, 1) + "\x7f")),
            "not a text file (binary content at line 2)");
  // Bytes >= 0x80 (UTF-8 in a comment) are text.
  EXPECT_TRUE(Parse("; Acknowledge: Uri \xc3\xa9\n" + Job(1, 0, 10, 1)).ok());
}

TEST(SwfHostile, NoJobs) {
  EXPECT_EQ(ErrorOf(Parse("")), "no jobs");
  EXPECT_EQ(ErrorOf(Parse("\n\n  \n")), "no jobs");
  EXPECT_EQ(ErrorOf(Parse("; MaxProcs: 4\n; only a header\n")), "no jobs");
  EXPECT_EQ(ErrorOf(Parse("hello\nworld\n")),
            "no jobs (2 malformed lines skipped, the first: line 1: expected 18 fields, found 1)");
  SwfOptions none;
  none.max_errors = 0;  // the first error is still told
  Result<SwfTrace> r = ParseSwf("a b\n", none);
  EXPECT_EQ(ErrorOf(r),
            "no jobs (1 malformed line skipped, the first: line 1: expected 18 fields, found 2)");
}

TEST(SwfHostile, StrictStopsAtTheFirstBadLine) {
  const std::string text = Job(1, 0, 10, 1) + "\n; c\n" + "1 2 3\n" + "x\n" + Job(2, 0, 1, 1);
  EXPECT_EQ(ErrorOf(ParseStrict(text)), "line 4: expected 18 fields, found 3");
}

TEST(SwfHostile, NonStrictCountsAndKeepsMaxErrors) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += Job(i, i, 10, 1) + "bad line " + std::to_string(i) + "\n";
  SwfOptions o;
  o.max_errors = 3;
  Result<SwfTrace> r = ParseSwf(text, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs.size(), 50u);
  EXPECT_EQ(r->skipped, 50);
  EXPECT_EQ(r->lines, 100);
  ASSERT_EQ(r->errors.size(), 3u);
  EXPECT_EQ(r->errors[0], "line 2: expected 18 fields, found 3");
  EXPECT_EQ(r->errors[2], "line 6: expected 18 fields, found 3");

  Result<SwfTrace> def = Parse(text);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->errors.size(), SwfOptions{}.max_errors);
}

// Mangled versions of a good trace: any result but a crash, and the counts add up.
TEST(SwfHostile, MutatedTextNeverBreaksTheCounts) {
  std::string good = "; MaxProcs: 100\n";
  for (int i = 0; i < 40; ++i) good += Job(i, i * 10, i + 1, i % 7 + 1);
  std::mt19937 rng(20240611);
  const std::string alphabet = "0123456789 -.;\t\r\n\x01x";
  for (int round = 0; round < 2000; ++round) {
    std::string text = good;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(at, 1, c);
          break;
        default:
          text.erase(at, 1 + rng() % 30);
          break;
      }
      if (text.empty()) text = "x";
    }
    Result<SwfTrace> r = Parse(text);
    if (!r.ok()) continue;
    EXPECT_LE(static_cast<int64_t>(r->jobs.size()) + r->unreplayable + r->skipped, r->lines);
    for (const SwfJob& j : r->jobs) {
      EXPECT_GE(j.submit_s, 0);
      EXPECT_GE(j.run_s, 0);
      EXPECT_GE(j.procs, 1);
    }
  }
}

// --- files ---

TEST(SwfRead, PlainFile) {
  TempDir dir;
  const std::string path = dir.File("t.swf");
  WriteBytes(path, "; MaxNodes: 8\n" + Job(1, 0, 10, 2) + Job(2, 5, 20, 4));
  Result<SwfTrace> r = ReadSwf(path, SwfOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_nodes, 8);
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[1].procs, 4);
}

TEST(SwfRead, GzipFile) {
  TempDir dir;
  const std::string path = dir.File("t.swf.gz");
  std::string text = "; MaxProcs: 32\n";
  for (int i = 0; i < 20000; ++i) text += Job(i, i, 60, i % 32 + 1);  // several inflate chunks
  WriteGzip(path, text);
  ASSERT_EQ(static_cast<unsigned char>(ReadBytes(path)[0]), 0x1f);
  Result<SwfTrace> r = ReadSwf(path, SwfOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_procs, 32);
  ASSERT_EQ(r->jobs.size(), 20000u);
  EXPECT_EQ(r->jobs[19999].id, 19999);
  EXPECT_EQ(r->jobs[19999].procs, 19999 % 32 + 1);
  EXPECT_EQ(r->lines, 20001);
}

TEST(SwfRead, GzipOfSeveralMembers) {
  TempDir dir;
  WriteGzip(dir.File("a.gz"), Job(1, 0, 10, 1));
  WriteGzip(dir.File("b.gz"), Job(2, 5, 10, 1));
  const std::string path = dir.File("ab.gz");
  WriteBytes(path, ReadBytes(dir.File("a.gz")) + ReadBytes(dir.File("b.gz")));
  Result<SwfTrace> r = ReadSwf(path, SwfOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs.size(), 2u);
}

TEST(SwfRead, MissingPath) {
  TempDir dir;
  const std::string path = dir.File("nope.swf");
  Result<SwfTrace> r = ReadSwf(path, SwfOptions{});
  EXPECT_EQ(ErrorOf(r), path + ": No such file or directory");
}

TEST(SwfRead, Directory) {
  TempDir dir;
  const std::string path = dir.File("d");
  std::filesystem::create_directory(path);
  EXPECT_EQ(ErrorOf(ReadSwf(path, SwfOptions{})), path + ": Is a directory");
}

TEST(SwfRead, CorruptGzip) {
  TempDir dir;
  const std::string path = dir.File("bad.gz");
  std::string bytes = "\x1f\x8b";
  for (int i = 0; i < 4000; ++i) bytes.push_back(static_cast<char>((i * 7919) % 251));
  WriteBytes(path, bytes);
  const std::string msg = ErrorOf(ReadSwf(path, SwfOptions{}));
  EXPECT_EQ(msg.rfind(path + ": corrupt gzip data (", 0), 0u) << msg;
  EXPECT_EQ(msg.back(), ')') << msg;

  WriteBytes(path, "\x1f\x8b");
  EXPECT_EQ(ErrorOf(ReadSwf(path, SwfOptions{})), path + ": corrupt gzip data (truncated)");
}

TEST(SwfRead, TruncatedAndTrailingGzip) {
  TempDir dir;
  const std::string good = dir.File("good.gz");
  std::string text;
  for (int i = 0; i < 2000; ++i) text += Job(i, i, 60, 1);
  WriteGzip(good, text);
  const std::string bytes = ReadBytes(good);

  const std::string cut = dir.File("cut.gz");
  WriteBytes(cut, bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(ErrorOf(ReadSwf(cut, SwfOptions{})), cut + ": corrupt gzip data (truncated)");

  const std::string tail = dir.File("tail.gz");
  WriteBytes(tail, bytes + "junk");
  EXPECT_EQ(ErrorOf(ReadSwf(tail, SwfOptions{})),
            tail + ": corrupt gzip data (trailing bytes after the gzip stream)");

  const std::string padded = dir.File("padded.gz");  // zero padding is ignored, as gzip does
  WriteBytes(padded, bytes + std::string(512, '\0'));
  Result<SwfTrace> r = ReadSwf(padded, SwfOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs.size(), 2000u);
}

TEST(SwfRead, ParseErrorsNameThePath) {
  TempDir dir;
  const std::string path = dir.File("t.swf");
  WriteBytes(path, Job(1, 0, 10, 1) + "1 2\n");
  SwfOptions strict;
  strict.strict = true;
  EXPECT_EQ(ErrorOf(ReadSwf(path, strict)), path + ": line 2: expected 18 fields, found 2");

  const std::string gz = dir.File("bin.gz");
  WriteGzip(gz, std::string("\0\0\0\0", 4));
  EXPECT_EQ(ErrorOf(ReadSwf(gz, SwfOptions{})),
            gz + ": not a text file (binary content at line 1)");

  const std::string empty = dir.File("empty.swf");
  WriteBytes(empty, "");
  EXPECT_EQ(ErrorOf(ReadSwf(empty, SwfOptions{})), empty + ": no jobs");
}

// --- the real traces ---

// shared/data/traces: $CORRAL_TRACES, else beside the repository.
std::string TracesDir() {
  if (const char* env = getenv("CORRAL_TRACES"); env != nullptr && *env != '\0') return env;
  return CORRAL_SOURCE_DIR "/../shared/data/traces";
}

// The value of "; <key>: N" in the header of a (possibly gzipped) trace; -1 if none.
int64_t HeaderValue(const std::string& path, const std::string& key) {
  gzFile gz = gzopen(path.c_str(), "rb");  // reads plain files too
  if (gz == nullptr) return -1;
  char buf[4096];
  int64_t value = -1;
  while (gzgets(gz, buf, sizeof buf) != nullptr) {
    const std::string line = buf;
    if (line.empty() || line[0] != ';') break;
    const size_t at = line.find(key + ":");
    if (at != std::string::npos)
      value = std::strtoll(line.c_str() + at + key.size() + 1, nullptr, 10);
  }
  gzclose(gz);
  return value;
}

// ReadSwf of `path`, with the milliseconds it took in *ms.
Result<SwfTrace> TimedRead(const std::string& path, double* ms) {
  const auto t0 = std::chrono::steady_clock::now();
  Result<SwfTrace> r = ReadSwf(path, SwfOptions{});
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void Report(const std::string& name, const SwfTrace& t, double ms) {
  std::printf(
      "%s: jobs %zu, unreplayable %lld, skipped %lld, lines %lld, MaxProcs %lld, "
      "MaxNodes %lld, read in %.1f ms\n",
      name.c_str(), t.jobs.size(), static_cast<long long>(t.unreplayable),
      static_cast<long long>(t.skipped), static_cast<long long>(t.lines),
      static_cast<long long>(t.max_procs), static_cast<long long>(t.max_nodes), ms);
}

TEST(SwfTraces, Lublin256) {
  const std::string path = TracesDir() + "/lublin_256.swf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  double read_ms = 0;
  Result<SwfTrace> r = TimedRead(path, &read_ms);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Report("lublin_256.swf", *r, read_ms);
  EXPECT_EQ(r->max_nodes, 256);
  EXPECT_EQ(r->skipped, 0) << (r->errors.empty() ? "" : r->errors[0]);
  EXPECT_EQ(static_cast<int64_t>(r->jobs.size()) + r->unreplayable + r->skipped, 10000);
}

TEST(SwfTraces, Kth) {
  const std::string path = TracesDir() + "/KTH-SP2-1996-2.1-cln.swf.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  double read_ms = 0;
  Result<SwfTrace> r = TimedRead(path, &read_ms);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Report("KTH-SP2-1996-2.1-cln.swf.gz", *r, read_ms);
  // The cleaned log keeps 28,476 of its 28,490 jobs; its own header says which.
  int64_t records = HeaderValue(path, "MaxRecords");
  if (records < 0) records = 28476;
  EXPECT_EQ(r->max_procs, 100);
  EXPECT_EQ(r->skipped, 0) << (r->errors.empty() ? "" : r->errors[0]);
  EXPECT_EQ(static_cast<int64_t>(r->jobs.size()) + r->unreplayable, records);
}

// Parsing alone (no file, no inflating) of a KTH-sized text is fast.
TEST(SwfTraces, ParseSpeed) {
  std::string text = "; MaxProcs: 100\n";
  for (int i = 0; i < 28476; ++i) {
    text += "   " + std::to_string(i) + "   " + std::to_string(600000 + i * 997) +
            " 192180   3477    4     -1    -1    4  53940    -1  1  12  12  -1 -1 -1 -1 -1\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  Result<SwfTrace> r = Parse(text);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs.size(), 28476u);
  std::printf("parsed %zu bytes, %zu jobs in %.1f ms\n", text.size(), r->jobs.size(), ms);
  EXPECT_LT(ms, 500) << "far slower than expected (a few ms in a release build)";
}

}  // namespace
}  // namespace corral::sim
