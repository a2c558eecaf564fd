// The CSV text helpers the trace readers share: lines (LF, CRLF, BOM), fields, header columns,
// counts, and the exact messages they give, on hostile input too.
#include "sched/sim/csv.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral::sim {
namespace {

using namespace std::string_view_literals;

std::vector<std::string> AllLines(std::string_view text) {
  std::vector<std::string> out;
  LineReader r(text);
  std::string_view line;
  while (r.Next(&line)) out.emplace_back(line);
  return out;
}

TEST(CsvText, LineMessageAndQuote) {
  EXPECT_EQ(LineMessage(7, "num_gpu: empty"), "line 7: num_gpu: empty");
  EXPECT_EQ(Quote(""), "\"\"");
  EXPECT_EQ(Quote("abc"), "\"abc\"");
  const std::string exact(kCsvMaxQuoted, 'x');
  EXPECT_EQ(Quote(exact), "\"" + exact + "\"");
  EXPECT_EQ(Quote(exact + "yz"), "\"" + exact + "...\"");
}

TEST(CsvText, FindBinaryLine) {
  EXPECT_EQ(FindBinaryLine(""), 0);
  EXPECT_EQ(FindBinaryLine("a,b\r\n\tc\n"), 0);
  EXPECT_EQ(FindBinaryLine("\xEF\xBB\xBF"
                           "a\n"),
            0);  // a BOM is not binary
  EXPECT_EQ(FindBinaryLine("a\nb\nc\0d"sv), 3);
  EXPECT_EQ(FindBinaryLine("\x7f"), 1);
  EXPECT_EQ(FindBinaryLine("a\n\n\x01"), 3);
}

TEST(CsvText, TrimLowerSplit) {
  EXPECT_EQ(Trim(" \t a b \t"), "a b");
  EXPECT_EQ(Trim(" \t "), "");
  EXPECT_EQ(Trim("\r"), "\r");  // only blanks
  EXPECT_EQ(Lower("Num_GPU\xC3\x84"), "num_gpu\xC3\x84");
  EXPECT_EQ(SplitCsv(""), (std::vector<std::string_view>{""}));
  EXPECT_EQ(SplitCsv("a,"), (std::vector<std::string_view>{"a", ""}));
  EXPECT_EQ(SplitCsv(" a , b,\tc "), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(SplitCsv("\"x,y\""), (std::vector<std::string_view>{"\"x", "y\""}));  // no quoting
  EXPECT_EQ(SplitCsv(",,"), (std::vector<std::string_view>{"", "", ""}));
}

TEST(CsvText, LineReaderEndsAndBom) {
  EXPECT_TRUE(AllLines("").empty());
  EXPECT_TRUE(AllLines("\xEF\xBB\xBF").empty());
  EXPECT_EQ(AllLines("a\nb"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(AllLines("a\r\nb\r\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(AllLines("\xEF\xBB\xBF"
                     "h\r\n\r\nx"),
            (std::vector<std::string>{"h", "", "x"}));
  EXPECT_EQ(AllLines("\n"), (std::vector<std::string>{""}));
  EXPECT_EQ(AllLines("a\r\r\n"), (std::vector<std::string>{"a\r"}));  // one \r only
  LineReader r("x\ny\n");
  std::string_view line;
  EXPECT_EQ(r.number(), 0);
  ASSERT_TRUE(r.Next(&line));
  ASSERT_TRUE(r.Next(&line));
  EXPECT_EQ(line, "y");
  EXPECT_EQ(r.number(), 2);
  EXPECT_FALSE(r.Next(&line));
  EXPECT_EQ(r.number(), 2);
}

TEST(CsvText, FirstLine) {
  EXPECT_EQ(FirstLine(""), "");
  EXPECT_EQ(FirstLine("\xEF\xBB\xBF"
                      "a,b\r\nc"),
            "a,b");
  EXPECT_EQ(FirstLine("a,b"), "a,b");
  EXPECT_EQ(FirstLine("\r\n"), "");
}

constexpr std::array<std::string_view, 3> kNames = {"a", "b", "c"};

TEST(CsvColumns, FoundInAnyOrderAndCase) {
  size_t count = 0;
  Result<std::array<int, 3>> at = FindColumns(" B ,x,A", 1, kNames, 2, &count);
  ASSERT_TRUE(at.ok()) << at.status().message();
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(*at, (std::array<int, 3>{2, 0, -1}));
}

TEST(CsvColumns, MissingOrTwice) {
  size_t count = 0;
  Result<std::array<int, 3>> missing = FindColumns("a,c", 4, kNames, 2, &count);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "line 4: header: no \"b\" column");
  Result<std::array<int, 3>> twice = FindColumns("a,b,A", 1, kNames, 2, &count);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "line 1: header: column \"a\" twice");
  Result<std::array<int, 3>> empty = FindColumns("", 1, kNames, 1, &count);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "line 1: header: no \"a\" column");
  EXPECT_EQ(count, 1u);
}

TEST(CsvNumbers, ParseCount) {
  int64_t v = -7;
  EXPECT_EQ(ParseCount("12", &v), "");
  EXPECT_EQ(v, 12);
  EXPECT_EQ(ParseCount("12.00", &v), "");
  EXPECT_EQ(v, 12);
  EXPECT_EQ(ParseCount("9223372036854775807", &v), "");
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_EQ(ParseCount("", &v), "empty");
  EXPECT_EQ(ParseCount("12.5", &v), "not an integer: \"12.5\"");
  EXPECT_EQ(ParseCount("12.", &v), "not an integer: \"12.\"");
  EXPECT_EQ(ParseCount(".0", &v), "not an integer: \".0\"");
  EXPECT_EQ(ParseCount("+1", &v), "not an integer: \"+1\"");
  EXPECT_EQ(ParseCount("1e3", &v), "not an integer: \"1e3\"");
  EXPECT_EQ(ParseCount("-3", &v), "negative: \"-3\"");
  EXPECT_EQ(ParseCount("9223372036854775808", &v), "out of range: \"9223372036854775808\"");
  const std::string huge(100, '9');
  EXPECT_EQ(ParseCount(huge, &v), "out of range: \"" + std::string(32, '9') + "...\"");
}

TEST(CsvNumbers, ParseInRange) {
  int64_t v = 0;
  EXPECT_EQ(ParseInRange("64", 0, 64, &v), "");
  EXPECT_EQ(v, 64);
  EXPECT_EQ(ParseInRange("65", 0, 64, &v), "out of range: 65 (0 to 64)");
  EXPECT_EQ(ParseInRange("1", 2, 64, &v), "out of range: 1 (2 to 64)");
  EXPECT_EQ(ParseInRange("x", 0, 64, &v), "not an integer: \"x\"");
}

TEST(CsvMessages, Exact) {
  EXPECT_EQ(NotTextMessage(3), "not a text file (binary content at line 3)");
  EXPECT_EQ(TooLongMessage(2), "line 2: longer than 4096 bytes");
  EXPECT_EQ(FieldsMessage(5, 3, 4), "line 5: expected 3 fields (as the header), found 4");
  EXPECT_EQ(FieldsMessage(5, 3, 1), "line 5: expected 3 fields (as the header), found 1");
  EXPECT_EQ(NoJobsMessage(0, ""), "no jobs");
  EXPECT_EQ(NoJobsMessage(1, "line 2: x: empty"),
            "no jobs (1 malformed line skipped, the first: line 2: x: empty)");
  EXPECT_EQ(NoJobsMessage(3, "line 2: x: empty"),
            "no jobs (3 malformed lines skipped, the first: line 2: x: empty)");
}

TEST(CsvErrors, NoteSkippedKeepsTheFirst) {
  Workload w;
  std::string first;
  NoteSkipped("e1", 2, &w, &first);
  NoteSkipped("e2", 2, &w, &first);
  NoteSkipped("e3", 2, &w, &first);
  EXPECT_EQ(w.skipped, 3);
  EXPECT_EQ(first, "e1");
  EXPECT_EQ(w.errors, (std::vector<std::string>{"e1", "e2"}));
  Workload none;
  std::string first_none;
  NoteSkipped("only", 0, &none, &first_none);
  EXPECT_EQ(none.skipped, 1);
  EXPECT_EQ(first_none, "only");
  EXPECT_TRUE(none.errors.empty());
}

}  // namespace
}  // namespace corral::sim
