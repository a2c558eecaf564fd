// The CSV text helpers the trace readers share (alibaba.cc, philly.cc): plain comma-separated
// fields, no quoting, blanks around a field ignored, LF or CRLF line ends, an optional UTF-8 BOM
// before the first line. Pure; nothing throws; every problem is a Status or a message.
//
// Messages follow the readers' form: "line N: <field>: <reason>", a bad token quoted and cut to
// kCsvMaxQuoted bytes ("\"abc...\"").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sched/sim/workload.h"

namespace corral::sim {

inline constexpr size_t kCsvMaxLineBytes = 4096;  // a longer line is malformed
inline constexpr size_t kCsvMaxQuoted = 32;       // bytes of a bad field quoted in a message
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// "line N: <what>".
std::string LineMessage(int64_t line, std::string_view what);

// `tok` as a message shows it: in double quotes, cut to kCsvMaxQuoted bytes then "..." when
// longer. No escaping.
std::string Quote(std::string_view tok);

// The 1-based line of the first control byte other than \t, \r and \n (or DEL) in `text`; 0 when
// there is none (an empty text too).
int64_t FindBinaryLine(std::string_view text);

// `s` without leading and trailing blanks (spaces and tabs only).
std::string_view Trim(std::string_view s);

// `s` with ASCII A-Z lowered; other bytes as they are.
std::string Lower(std::string_view s);

// The comma-separated fields of `line`, each trimmed; never empty ("" is one empty field, "a,"
// two). No quoting: a comma always separates.
std::vector<std::string_view> SplitCsv(std::string_view line);

// The first line of `text`, without a leading BOM or its line end (\n or \r\n); "" for "".
std::string_view FirstLine(std::string_view text);

// The lines of a text, numbered from 1, without their line ends (\n, or \r\n) and the first
// without a BOM. A final line end does not start another line; an empty text has no lines.
class LineReader {
 public:
  explicit LineReader(std::string_view text);
  // The next line into *line (a view into the text); false at the end.
  bool Next(std::string_view* line);
  // The number of the line Next gave last; 0 before the first.
  int64_t number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t number_ = 0;
};

// Where each of `names` (lower case) is among the columns of `header` (line `line`), compared
// lower-cased, -1 when absent; *count is the header's number of fields. Errors: a name twice
// ("line N: header: column \"x\" twice"), one of the first `required` names absent ("line N:
// header: no \"x\" column").
template <size_t N>
Result<std::array<int, N>> FindColumns(std::string_view header, int64_t line,
                                       const std::array<std::string_view, N>& names,
                                       size_t required, size_t* count) {
  const std::vector<std::string_view> cols = SplitCsv(header);
  *count = cols.size();
  std::array<int, N> at;
  at.fill(-1);
  for (size_t c = 0; c < cols.size(); ++c) {
    const std::string name = Lower(cols[c]);
    for (size_t k = 0; k < N; ++k) {
      if (name != names[k]) continue;
      if (at[k] >= 0) {
        return Status::Invalid(LineMessage(line, "header: column \"" + name + "\" twice"));
      }
      at[k] = static_cast<int>(c);
    }
  }
  for (size_t k = 0; k < required; ++k) {
    if (at[k] < 0) {
      return Status::Invalid(
          LineMessage(line, "header: no \"" + std::string(names[k]) + "\" column"));
    }
  }
  return at;
}

// Parses a non-negative decimal integer into *v ("12", also "12.0" or "12.00" as pandas writes
// integer columns with gaps); returns "" when it is one, else why not: "empty", "out of range:
// <tok>" (over int64), "not an integer: <tok>", "negative: <tok>". *v may be written either way.
std::string ParseCount(std::string_view tok, int64_t* v);

// As ParseCount, also requiring lo <= *v <= hi: "out of range: V (LO to HI)".
std::string ParseInRange(std::string_view tok, int64_t lo, int64_t hi, int64_t* v);

// "not a text file (binary content at line N)".
std::string NotTextMessage(int64_t line);

// "line N: longer than 4096 bytes".
std::string TooLongMessage(int64_t line);

// "line N: expected W fields (as the header), found G".
std::string FieldsMessage(int64_t line, size_t want, size_t got);

// "no jobs", or with what was skipped: "no jobs (K malformed line(s) skipped, the first: ...)".
std::string NoJobsMessage(int64_t skipped, const std::string& first_error);

// Counts the malformed line `err` as skipped in *w: ++w->skipped, *first_error set when still
// empty, `err` kept in w->errors while it holds fewer than max_errors.
void NoteSkipped(std::string err, size_t max_errors, Workload* w, std::string* first_error);

}  // namespace corral::sim
