#include "sched/sim/swf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

namespace corral::sim {

namespace {

constexpr size_t kMaxLineBytes = 4096;
constexpr size_t kFields = 18;
constexpr size_t kMaxQuoted = 32;               // bytes of a bad field quoted in a message
constexpr uint64_t kMaxInflated = 4ull << 30;   // 4 GiB
constexpr size_t kInflateInChunk = 1 << 20;     // compressed bytes handed to zlib at once
constexpr size_t kInflateOutChunk = 256 << 10;  // inflated bytes asked of zlib at once
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// The SWF field names, as the Parallel Workloads Archive defines them (field K is [K - 1]).
constexpr std::array<std::string_view, kFields> kFieldNames = {
    "job id",           "submit time",   "wait time",       "run time",       "allocated procs",
    "average cpu time", "used memory",   "requested procs", "requested time", "requested memory",
    "status",           "user id",       "group id",        "executable",     "queue",
    "partition",        "preceding job", "think time"};

// "line N: <what>".
std::string LineMessage(int64_t line, std::string_view what) {
  std::string m = "line " + std::to_string(line) + ": ";
  m.append(what);
  return m;
}

// A bad token as a message shows it: quoted, cut to kMaxQuoted bytes.
std::string Quote(std::string_view tok) {
  std::string q = "\"";
  q.append(tok.substr(0, kMaxQuoted));
  if (tok.size() > kMaxQuoted) q += "...";
  return q + "\"";
}

// Control bytes other than \t, \r and \n (and DEL) mean the text is not a text file.
bool IsBinaryByte(unsigned char c) {
  return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

// The 1-based line of the first binary byte in `text`; 0 when there is none.
int64_t FindBinaryLine(std::string_view text) {
  int64_t line = 1;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      ++line;
    } else if (IsBinaryByte(c)) {
      return line;
    }
  }
  return 0;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view SkipSpace(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return s.substr(i);
}

// If `comment` (the text after ';') is "<key> N...", stores N (> 0) in *out unless already set.
void ParseHeaderKey(std::string_view comment, std::string_view key, int64_t* out) {
  comment = SkipSpace(comment);
  if (*out != -1 || !comment.starts_with(key)) return;
  std::string_view rest = SkipSpace(comment.substr(key.size()));
  int64_t v = 0;
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ec == std::errc() && v > 0) *out = v;
}

// A header comment: only MaxProcs and MaxNodes are read; the first of each wins.
void ParseHeader(std::string_view comment, SwfTrace* t) {
  ParseHeaderKey(comment, "MaxProcs:", &t->max_procs);
  ParseHeaderKey(comment, "MaxNodes:", &t->max_nodes);
}

// Splits `line` at whitespace into out[0..17]; returns how many fields there are in all.
size_t SplitFields(std::string_view line, std::array<std::string_view, kFields>* out) {
  size_t n = 0, i = 0;
  while (true) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) return n;
    const size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (n < kFields) (*out)[n] = line.substr(start, i - start);
    ++n;
  }
}

// A decimal (fields 6 and 7 only): any fixed-notation number >= -1; its value is dropped.
std::string CheckDecimal(std::string_view tok) {
  double d = 0;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), d, std::chars_format::fixed);
  if (ec == std::errc::result_out_of_range) return "out of range: " + Quote(tok);
  if (ec != std::errc() || p != tok.data() + tok.size() || !std::isfinite(d)) {
    return "not a number: " + Quote(tok);
  }
  if (d < -1) return "below -1: " + Quote(tok);
  return {};
}

// The range of an integer field K: field 1 any; field 2 >= 0; others >= -1 (-1 unknown);
// the processor counts and the status fit an int32.
std::string CheckRange(size_t k, int64_t v) {
  if (k == 1) return {};
  if (k == 2 && v < 0) return "negative: " + std::to_string(v);
  if (v < -1) return "below -1: " + std::to_string(v);
  if ((k == 5 || k == 8 || k == 11) && v > kInt32Max) {
    return "out of range: " + std::to_string(v) + " is over " + std::to_string(kInt32Max);
  }
  return {};
}

// Parses field K (1-based) into *v; returns the reason it is malformed, or "" when it is not.
std::string ParseField(size_t k, std::string_view tok, int64_t* v) {
  if ((k == 6 || k == 7) && tok.find('.') != std::string_view::npos) {
    *v = -1;
    return CheckDecimal(tok);
  }
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), *v);
  if (ec == std::errc::result_out_of_range) return "out of range: " + Quote(tok);
  if (ec != std::errc() || p != tok.data() + tok.size()) return "not an integer: " + Quote(tok);
  return CheckRange(k, *v);
}

// Parses one job line (line number n) into *job; returns its message if malformed, else "".
std::string ParseJob(std::string_view line, int64_t n, SwfJob* job) {
  std::array<std::string_view, kFields> tok;
  const size_t count = SplitFields(line, &tok);
  if (count != kFields) {
    return LineMessage(n, "expected 18 fields, found " + std::to_string(count));
  }
  std::array<int64_t, kFields> f{};
  for (size_t k = 1; k <= kFields; ++k) {
    std::string reason = ParseField(k, tok[k - 1], &f[k - 1]);
    if (reason.empty()) continue;
    std::string what = "field " + std::to_string(k) + " (";
    what.append(kFieldNames[k - 1]);
    return LineMessage(n, what + "): " + reason);
  }
  job->id = f[0];
  job->submit_s = f[1];
  job->wait_s = f[2];
  job->run_s = f[3];
  job->procs = static_cast<int32_t>(f[4] > 0 ? f[4] : (f[7] > 0 ? f[7] : 0));
  job->req_time_s = f[8];
  job->status = static_cast<int32_t>(f[10]);
  job->user = f[11];
  job->line = n;
  return {};
}

// One line (its line end stripped): a header comment, blank, or a job added to `t` (or counted
// unreplayable). Returns the line's message if it is malformed, else "".
std::string ParseLine(std::string_view line, int64_t n, SwfTrace* t) {
  if (line.size() > kMaxLineBytes) {
    return LineMessage(n, "longer than " + std::to_string(kMaxLineBytes) + " bytes");
  }
  std::string_view s = SkipSpace(line);
  if (s.empty()) return {};
  if (s.front() == ';') {
    ParseHeader(s.substr(1), t);
    return {};
  }
  SwfJob job;
  std::string err = ParseJob(s, n, &job);
  if (!err.empty()) return err;
  if (job.run_s < 0 || job.procs <= 0) {
    ++t->unreplayable;
  } else {
    t->jobs.push_back(job);
  }
  return {};
}

// "no jobs", with what was skipped when something was.
std::string NoJobsMessage(const SwfTrace& t, const std::string& first_error) {
  if (t.skipped == 0) return "no jobs";
  return "no jobs (" + std::to_string(t.skipped) + " malformed line" + (t.skipped == 1 ? "" : "s") +
         " skipped, the first: " + first_error + ")";
}

// The whole of the file at `path`; errors "PATH: <strerror>".
Result<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Invalid(path + ": " + std::strerror(errno));
  std::string data;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    if (static_cast<uint64_t>(st.st_size) > kMaxInflated) {
      ::close(fd);
      return Status::Invalid(path + ": larger than 4 GiB");
    }
    data.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[1 << 16];
  while (true) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int err = errno;
      ::close(fd);
      return Status::Invalid(path + ": " + std::strerror(err));
    }
    if (got == 0) break;
    data.append(buf, static_cast<size_t>(got));
    if (data.size() > kMaxInflated) {
      ::close(fd);
      return Status::Invalid(path + ": larger than 4 GiB");
    }
  }
  ::close(fd);
  return data;
}

bool IsGzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

// Ends a zlib inflate stream at scope exit.
struct InflateEnd {
  z_stream* zs;
  ~InflateEnd() { inflateEnd(zs); }
};

std::string Corrupt(const std::string& path, std::string_view why) {
  std::string m = path + ": corrupt gzip data (";
  m.append(why);
  return m + ")";
}

// After the end of one gzip member at `at`: true when `data` is done there (nothing or only
// zero padding is left); false when another member follows. Anything else is corrupt.
Result<bool> MemberEnd(std::string_view data, size_t at, const std::string& path) {
  std::string_view rest = data.substr(at);
  if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == 0; })) return true;
  if (IsGzip(rest)) return false;
  return Status::Invalid(Corrupt(path, "trailing bytes after the gzip stream"));
}

// Inflates gzip `data` (one or more members) in chunks, refusing more than kMaxInflated bytes.
Result<std::string> Gunzip(std::string_view data, const std::string& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return Status::Invalid(path + ": cannot start inflating (zlib out of memory)");
  }
  InflateEnd end{&zs};
  std::string out;
  size_t fed = 0;  // bytes of `data` handed to zlib so far
  while (true) {
    if (zs.avail_in == 0 && fed < data.size()) {
      const size_t n = std::min(kInflateInChunk, data.size() - fed);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    const size_t had = out.size();
    out.resize(had + kInflateOutChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + had);
    zs.avail_out = static_cast<uInt>(kInflateOutChunk);
    const int ret = inflate(&zs, Z_NO_FLUSH);
    out.resize(had + kInflateOutChunk - zs.avail_out);
    if (out.size() > kMaxInflated) {
      return Status::Invalid(path + ": larger than 4 GiB once inflated");
    }
    if (ret == Z_STREAM_END) {
      Result<bool> done = MemberEnd(data, fed - zs.avail_in, path);
      if (!done.ok()) return done.status();
      if (*done) return out;
      inflateReset(&zs);
    } else if (ret == Z_BUF_ERROR && zs.avail_in == 0 && fed == data.size()) {
      return Status::Invalid(Corrupt(path, "truncated"));
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return Status::Invalid(Corrupt(path, zs.msg != nullptr ? zs.msg : zError(ret)));
    }
  }
}

}  // namespace

Result<std::string> ReadTraceText(const std::string& path) {
  Result<std::string> raw = ReadFile(path);
  if (!raw.ok() || !IsGzip(*raw)) return raw;
  return Gunzip(*raw, path);
}

Result<SwfTrace> ParseSwf(std::string_view text, const SwfOptions& opts) {
  if (int64_t bad = FindBinaryLine(text); bad != 0) {
    return Status::Invalid("not a text file (binary content at line " + std::to_string(bad) + ")");
  }
  SwfTrace t;
  std::string first_error;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++t.lines;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string err = ParseLine(line, t.lines, &t);
    if (err.empty()) continue;
    if (opts.strict) return Status::Invalid(std::move(err));
    ++t.skipped;
    if (first_error.empty()) first_error = err;
    if (t.errors.size() < opts.max_errors) t.errors.push_back(std::move(err));
  }
  if (t.jobs.empty() && t.unreplayable == 0) return Status::Invalid(NoJobsMessage(t, first_error));
  return t;
}

Result<SwfTrace> ReadSwf(const std::string& path, const SwfOptions& opts) {
  Result<std::string> text = ReadTraceText(path);
  if (!text.ok()) return text.status();
  Result<SwfTrace> trace = ParseSwf(*text, opts);
  if (!trace.ok()) return Status::Invalid(path + ": " + trace.status().message());
  return trace;
}

}  // namespace corral::sim
