#include "cli/directives.h"

#include <optional>
#include <utility>

namespace corral {
namespace {

constexpr std::string_view kBlanks = " \t\r\v\f";
constexpr std::string_view kPrefixes[] = {"#CORRAL", "#SBATCH"};

bool IsBlank(char c) {
  return kBlanks.find(c) != std::string_view::npos;
}

// The text after the directive prefix, or nullopt when `line` is not a directive.
std::optional<std::string_view> DirectiveBody(std::string_view line) {
  for (std::string_view prefix : kPrefixes) {
    if (line.starts_with(prefix) &&
        (line.size() == prefix.size() || IsBlank(line[prefix.size()]))) {
      return line.substr(prefix.size());
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<std::string>> SplitDirectiveWords(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return Status::Invalid("contains a NUL byte");
  }
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (IsBlank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '#' && !in_word) {
      break;  // a comment runs to the end of the line
    } else if (c == '\'') {
      size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos) return Status::Invalid("unterminated single quote");
      word.append(text.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      in_word = true;
      ++i;
      bool closed = false;
      while (i < n) {
        const char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < n &&
            std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos) {
          word += text[i + 1];
          i += 2;
        } else {
          word += d;
          ++i;
        }
      }
      if (!closed) return Status::Invalid("unterminated double quote");
    } else if (c == '\\') {
      if (i + 1 >= n) return Status::Invalid("backslash at the end of the line");
      word += text[i + 1];
      in_word = true;
      i += 2;
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<std::vector<DirectiveLine>> ExtractDirectiveLines(const std::string& script) {
  std::vector<DirectiveLine> out;
  std::string_view rest(script);
  size_t line_no = 0;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    if (line_no == 1 && line.starts_with("#!")) continue;
    if (std::optional<std::string_view> body = DirectiveBody(line)) {
      Result<std::vector<std::string>> words = SplitDirectiveWords(*body);
      if (!words.ok()) {
        return Status::Invalid("line " + std::to_string(line_no) + ": " + words.status().message());
      }
      if (!words->empty()) out.push_back(DirectiveLine{line_no, std::move(words).value()});
      continue;
    }
    const size_t first = line.find_first_not_of(kBlanks);
    if (first == std::string_view::npos || line[first] == '#') continue;  // blank or comment
    break;  // the first command ends the directives
  }
  return out;
}

Result<std::vector<std::string>> ExtractDirectives(const std::string& script) {
  Result<std::vector<DirectiveLine>> lines = ExtractDirectiveLines(script);
  if (!lines.ok()) return lines.status();
  std::vector<std::string> tokens;
  for (DirectiveLine& l : *lines) {
    for (std::string& t : l.tokens) tokens.push_back(std::move(t));
  }
  return tokens;
}

}  // namespace corral
