// Unsigned decimal integers written with digits only: no sign, no blanks, no base prefix, as
// the CLI's counts and sizes and Slurm durations take them.
#pragma once

#include <cstdint>
#include <string_view>

namespace corral {

enum class DigitsParse { kOk, kSyntax, kOverflow };  // kOverflow: digits, but past uint64

// *out is set only on kOk.
DigitsParse ParseDigits(std::string_view s, uint64_t* out);

}  // namespace corral
