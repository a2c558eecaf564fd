#include "sched/sim/csv.h"

#include <charconv>
#include <system_error>
#include <utility>

namespace corral::sim {

std::string LineMessage(int64_t line, std::string_view what) {
  std::string m = "line " + std::to_string(line) + ": ";
  m.append(what);
  return m;
}

std::string Quote(std::string_view tok) {
  std::string q = "\"";
  q.append(tok.substr(0, kCsvMaxQuoted));
  if (tok.size() > kCsvMaxQuoted) q += "...";
  return q + "\"";
}

int64_t FindBinaryLine(std::string_view text) {
  int64_t line = 1;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      ++line;
    } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      return line;
    }
  }
  return 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> SplitCsv(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t comma = line.find(',');
    out.push_back(Trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    line.remove_prefix(comma + 1);
  }
}

std::string_view FirstLine(std::string_view text) {
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

LineReader::LineReader(std::string_view text) : text_(text) {
  if (text_.starts_with(kUtf8Bom)) text_.remove_prefix(kUtf8Bom.size());
}

bool LineReader::Next(std::string_view* line) {
  if (pos_ >= text_.size()) return false;
  size_t eol = text_.find('\n', pos_);
  if (eol == std::string_view::npos) eol = text_.size();
  *line = text_.substr(pos_, eol - pos_);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  pos_ = eol + 1;
  ++number_;
  return true;
}

std::string ParseCount(std::string_view tok, int64_t* v) {
  if (tok.empty()) return "empty";
  std::string_view digits = tok;
  if (const size_t dot = tok.find('.'); dot != std::string_view::npos && dot > 0) {
    std::string_view frac = tok.substr(dot + 1);
    if (!frac.empty() && frac.find_first_not_of('0') == std::string_view::npos) {
      digits = tok.substr(0, dot);
    }
  }
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *v);
  if (ec == std::errc::result_out_of_range) return "out of range: " + Quote(tok);
  if (ec != std::errc() || p != digits.data() + digits.size()) {
    return "not an integer: " + Quote(tok);
  }
  if (*v < 0) return "negative: " + Quote(tok);
  return {};
}

std::string ParseInRange(std::string_view tok, int64_t lo, int64_t hi, int64_t* v) {
  std::string why = ParseCount(tok, v);
  if (why.empty() && (*v < lo || *v > hi)) {
    why = "out of range: " + std::to_string(*v) + " (" + std::to_string(lo) + " to " +
          std::to_string(hi) + ")";
  }
  return why;
}

std::string NotTextMessage(int64_t line) {
  return "not a text file (binary content at line " + std::to_string(line) + ")";
}

std::string TooLongMessage(int64_t line) {
  return LineMessage(line, "longer than " + std::to_string(kCsvMaxLineBytes) + " bytes");
}

std::string FieldsMessage(int64_t line, size_t want, size_t got) {
  return LineMessage(line, "expected " + std::to_string(want) + " fields (as the header), found " +
                               std::to_string(got));
}

std::string NoJobsMessage(int64_t skipped, const std::string& first_error) {
  if (skipped == 0) return "no jobs";
  return "no jobs (" + std::to_string(skipped) + " malformed line" + (skipped == 1 ? "" : "s") +
         " skipped, the first: " + first_error + ")";
}

void NoteSkipped(std::string err, size_t max_errors, Workload* w, std::string* first_error) {
  ++w->skipped;
  if (first_error->empty()) *first_error = err;
  if (w->errors.size() < max_errors) w->errors.push_back(std::move(err));
}

}  // namespace corral::sim
