#include "sched/sim/philly.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>
#include <utility>
#include <vector>

#include "sched/sim/csv.h"
#include "sched/sim/swf.h"

namespace corral::sim {

namespace {

constexpr int64_t kMaxGpus = 1024;     // per job
constexpr double kMaxDuration = 1e12;  // seconds (some 31,700 years)

// --- fields (the CSV text helpers are csv.h's) ---

enum Col { kTimestamp, kDuration, kNumGpus };
constexpr std::array<std::string_view, 3> kNames = {"timestamp", "duration", "num_gpus"};
using Cols = std::array<int, kNames.size()>;

bool IsLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int DaysInMonth(int64_t y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

// The number at tok[at, at + len), all digits; -1 when not.
int64_t Digits(std::string_view tok, size_t at, size_t len) {
  int64_t v = 0;
  for (size_t i = at; i < at + len; ++i) {
    if (tok[i] < '0' || tok[i] > '9') return -1;
    v = v * 10 + (tok[i] - '0');
  }
  return v;
}

// "YYYY-MM-DD HH:MM:SS" (or with a 'T') in UTC as seconds since 1970-01-01 into *s; returns why
// it is not one, or "".
std::string ParseTimestamp(std::string_view tok, int64_t* s) {
  if (tok.empty()) return "empty";
  if (tok.size() != 19 || tok[4] != '-' || tok[7] != '-' || (tok[10] != ' ' && tok[10] != 'T') ||
      tok[13] != ':' || tok[16] != ':') {
    return "not YYYY-MM-DD HH:MM:SS: " + Quote(tok);
  }
  const int64_t y = Digits(tok, 0, 4), mo = Digits(tok, 5, 2), d = Digits(tok, 8, 2);
  const int64_t h = Digits(tok, 11, 2), mi = Digits(tok, 14, 2), se = Digits(tok, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) {
    return "not YYYY-MM-DD HH:MM:SS: " + Quote(tok);
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, static_cast<int>(mo))) {
    return "no such date: " + Quote(tok);
  }
  if (h > 23 || mi > 59 || se > 59) return "no such time: " + Quote(tok);
  *s =
      DaysFromCivil(y, static_cast<int>(mo), static_cast<int>(d)) * 86400 + h * 3600 + mi * 60 + se;
  return {};
}

// A duration in seconds, rounded to the nearest second, into *v; returns why not, or "".
std::string ParseDuration(std::string_view tok, int64_t* v) {
  if (tok.empty()) return "empty";
  double d = 0;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), d);
  if (ec == std::errc::result_out_of_range) return "out of range: " + Quote(tok);
  if (ec != std::errc() || p != tok.data() + tok.size()) return "not a number: " + Quote(tok);
  if (!std::isfinite(d)) return "not finite: " + Quote(tok);
  if (d < 0) return "negative: " + Quote(tok);
  if (d > kMaxDuration) return "out of range: " + Quote(tok) + " (over 1e12 seconds)";
  *v = std::llround(d);
  return {};
}

// A GPU count 0..kMaxGpus ("8", also "8.0") into *v; returns why not, or "".
std::string ParseGpus(std::string_view tok, int64_t* v) {
  return ParseInRange(tok, 0, kMaxGpus, v);
}

// One data row (row number `row`, line n) into *job, its submit time absolute; returns its
// message if malformed, else "".
std::string ParseRow(std::string_view line, const Cols& col, size_t count, int64_t row, int64_t n,
                     SimJob* job) {
  const std::vector<std::string_view> f = SplitCsv(line);
  if (f.size() != count) return FieldsMessage(n, count, f.size());
  std::array<int64_t, kNames.size()> v{};
  for (size_t k = 0; k < kNames.size(); ++k) {
    std::string_view tok = f[static_cast<size_t>(col[k])];
    const std::string why = k == kTimestamp  ? ParseTimestamp(tok, &v[k])
                            : k == kDuration ? ParseDuration(tok, &v[k])
                                             : ParseGpus(tok, &v[k]);
    if (!why.empty()) return LineMessage(n, std::string(kNames[k]) + ": " + why);
  }
  job->id = row;
  job->submit_s = v[kTimestamp];
  job->wait_s = -1;
  job->run_s = v[kDuration];
  job->req_time_s = -1;
  job->gpus = static_cast<int32_t>(v[kNumGpus]);
  job->procs = std::max(job->gpus, 1);
  job->nodes = 0;
  job->gpu_milli = 1000;
  job->user = -1;
  job->line = n;
  return {};
}

}  // namespace

int64_t DaysFromCivil(int64_t y, int m, int d) {
  // Howard Hinnant's days_from_civil: eras of 400 years (146097 days) from 0000-03-01.
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                    // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

Result<Workload> ParsePhilly(std::string_view csv, const PhillyOptions& opts) {
  if (int64_t bad = FindBinaryLine(csv); bad != 0) return Status::Invalid(NotTextMessage(bad));
  Workload w;
  w.format = "philly";
  Cols col{};
  size_t count = 0;
  bool have_header = false;
  int64_t row = 0;
  std::string first_error;
  LineReader lines(csv);
  std::string_view line;
  while (lines.Next(&line)) {
    const int64_t n = lines.number();
    w.lines = n;
    std::string err;
    if (line.size() > kCsvMaxLineBytes) {
      if (have_header) ++row;
      err = TooLongMessage(n);
    } else if (Trim(line).empty()) {
      continue;
    } else if (!have_header) {
      Result<Cols> found = FindColumns(line, n, kNames, kNames.size(), &count);
      if (!found.ok()) return found.status();
      col = *found;
      have_header = true;
      continue;
    } else {
      SimJob job;
      err = ParseRow(line, col, count, ++row, n, &job);
      if (err.empty() && job.gpus == 0) ++w.unreplayable;
      if (err.empty() && job.gpus > 0) w.jobs.push_back(std::move(job));
    }
    if (err.empty()) continue;
    if (opts.strict) return Status::Invalid(std::move(err));
    NoteSkipped(std::move(err), opts.max_errors, &w, &first_error);
  }
  if (w.jobs.empty() && w.unreplayable == 0) {
    return Status::Invalid(NoJobsMessage(w.skipped, first_error));
  }
  int64_t earliest = std::numeric_limits<int64_t>::max();
  for (const SimJob& j : w.jobs) earliest = std::min(earliest, j.submit_s);
  for (SimJob& j : w.jobs) j.submit_s -= earliest;
  return w;
}

Result<Workload> ReadPhilly(const std::string& path, const PhillyOptions& opts) {
  Result<std::string> text = ReadTraceText(path);
  if (!text.ok()) return text.status();
  Result<Workload> w = ParsePhilly(*text, opts);
  if (!w.ok()) return Status::Invalid(path + ": " + w.status().message());
  return w;
}

bool LooksLikePhilly(std::string_view text) {
  bool ts = false, dur = false, gpus = false;
  for (std::string_view c : SplitCsv(FirstLine(text))) {
    const std::string col = Lower(c);
    ts = ts || col == "timestamp";
    dur = dur || col == "duration";
    gpus = gpus || col == "num_gpus";
  }
  return ts && dur && gpus;
}

}  // namespace corral::sim
