// Value parsers for the `corral submit` options (cli/job_options.h) and for other commands that
// take the same kinds of values (counts, memory sizes, time limits, GPU requests, --export lists,
// --signal). Contract: every function here is pure (no I/O, no process environment, no globals
// beyond constant tables) and nothing throws; every problem comes back as a Status whose message
// names the option, the value and the reason, e.g. `--nodes: "-2" is not a positive integer`.
// Outputs are written only on success.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/job.h"
#include "common/status.h"

namespace corral {

// Parses "[model:]count" for --gpus: count >= 0 (0 = no GPUs, model then cleared), model
// lower-cased and made of letters, digits, '_', '-', '.'; "" when absent. Outputs are written only
// on success.
Status ParseGpuRequest(const std::string& value, std::string* model, int32_t* count);

// --mem: digits with an optional K/M/G/T suffix (either case); no suffix = MiB. Result in MiB,
// K rounded up; must be > 0.
Result<int64_t> ParseMemMib(const std::string& value);

// --time: "minutes", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM" or "D-HH:MM:SS" (fields unbounded,
// as in Slurm), or "UNLIMITED"/"infinite" (any case). Result in ms; 0 means unlimited.
Result<int64_t> ParseTimeLimitMs(const std::string& value);

// The building blocks of the option table in cli/job_options.cc. `option` is the name used in
// messages ("--nodes"); the public functions above are these with a fixed option name.
namespace option_values {

// `s` made safe to print: control and non-ASCII bytes become \xNN, and with `quoted` the double
// quote and the backslash get a backslash; text past max_len is cut and marked with "...".
std::string Printable(std::string_view s, size_t max_len, bool quoted);

// `s` as Printable(s, 64, true) in double quotes.
std::string Quote(std::string_view s);

// "<option>: "<value>" <reason>", e.g. `--nodes: "-2" is not a positive integer`.
Status BadValue(std::string_view option, std::string_view value, std::string_view reason);

// Decimal digits only, >= min (0 or 1) and at most INT32_MAX.
Result<int32_t> ParseCount(std::string_view option, const std::string& value, int32_t min);

// As ParseMemMib, with `option` in the messages.
Result<int64_t> ParseMemFor(std::string_view option, const std::string& value);

// As ParseTimeLimitMs, with `option` in the messages.
Result<int64_t> ParseTimeFor(std::string_view option, const std::string& value);

// As ParseGpuRequest, with `option` in the messages. With `milli`, a share of one GPU is taken
// too: "[model:]0.N" (0.001 to 0.999) gives count 1 and the share in thousandths (else 0);
// without it, a share is refused.
Status ParseGpuFor(std::string_view option, const std::string& value, std::string* model,
                   int32_t* count, int32_t* milli = nullptr);

// Non-empty and free of control characters (names and paths end up in files and terminals).
Status CheckText(std::string_view option, const std::string& value);

// A parsed --export value.
struct ExportSpec {
  bool all = false;  // start from the whole submitter environment
  std::vector<std::pair<std::string, std::optional<std::string>>> vars;  // NAME or NAME=value
};

// --export: ALL, NONE, or [ALL,]NAME[=VALUE],... (ALL and NONE in any case).
Result<ExportSpec> ParseExport(std::string_view option, const std::string& value);

// The job's environment: `environ` if spec.all, then spec.vars in order (NAME copies the last
// definition in `environ`, and is skipped if there is none; NAME=value sets it). Each name once,
// at the position of its first definition.
std::vector<std::pair<std::string, std::string>> BuildEnv(
    const ExportSpec& spec, const std::vector<std::pair<std::string, std::string>>& environ);

// --signal=[B:]SIG[@SECS], as sbatch takes it: SIG by name (with or without SIG) or number.
// Sets spec->signal, signal_secs (default 60) and signal_batch_only.
Status ParseSignalFor(std::string_view option, const std::string& value, JobSpec* spec);

}  // namespace option_values
}  // namespace corral
