// Durations as Slurm writes them (--time, MaxTime=, DefaultTime=): minutes, MM:SS, HH:MM:SS,
// D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED / INFINITE (0). Parsed to milliseconds.
#pragma once

#include <cstdint>
#include <string_view>

namespace corral {

enum class DurationParse { kOk, kSyntax, kTooLarge };

// Sets *ms (0 for UNLIMITED) on kOk; leaves it alone otherwise.
DurationParse ParseDurationMs(std::string_view value, int64_t* ms);

}  // namespace corral
