// Batch-script directives: the "#CORRAL" and "#SBATCH" lines that carry `corral submit` options.
// Read like sbatch: from the line after the "#!" line, stop at the first line that is neither
// blank nor a comment. A directive is a line starting (column 0, case-sensitive) with "#CORRAL"
// or "#SBATCH" followed by whitespace or the end of the line; "#SBATCHX" and " #SBATCH" are
// plain comments. Pure functions: no I/O, never throw, linear in the script size.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace corral {

struct DirectiveLine {
  size_t line = 0;                  // 1-based line number in the script
  std::vector<std::string> tokens;  // never empty
};

// The directive lines of a script, in order; lines with a prefix but no tokens are skipped.
// Errors (unterminated quote, NUL byte, trailing backslash) read "line N: <reason>".
Result<std::vector<DirectiveLine>> ExtractDirectiveLines(const std::string& script);

// The directive tokens of a script, in order, e.g. {"-N", "2", "--gpus=h100:2"}; errors name the
// line as ExtractDirectiveLines does.
Result<std::vector<std::string>> ExtractDirectives(const std::string& script);

// Splits the text after a directive prefix into words like a POSIX shell: blanks separate words,
// '...' is literal, "..." honours \" \\ \$ \` escapes, a backslash outside quotes escapes the next
// character, and '#' at the start of a word begins a comment. No expansion of any kind.
// Errors carry the reason only (no line number).
Result<std::vector<std::string>> SplitDirectiveWords(std::string_view text);

}  // namespace corral
