// `corral submit` options. One Boost.Program_options table parses both the command-line flags
// and the #CORRAL/#SBATCH directives of the batch script (see cli/directives.h); flags override
// directives, and within each source the last occurrence of an option wins. Nothing here reads
// files or the process environment (both come in through arguments) and nothing throws: every
// problem comes back as a Status whose message names the option, the value and the reason,
// e.g. `--nodes: "-2" is not a positive integer`, and for directives also the script and line.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/directives.h"
#include "cli/option_values.h"  // ParseGpuRequest, ParseMemMib, ParseTimeLimitMs
#include "common/job.h"
#include "common/status.h"

namespace corral {

struct SubmitContext {  // what the process knows, passed in so tests need no real environment
  std::string cwd;      // absolute; relative paths on the command line are relative to it
  std::string user;
  std::vector<std::pair<std::string, std::string>> environ;  // the submitter's environment
};

struct SubmitCommand {
  JobSpec spec;             // spec.script is the script text; spec.env the exported environment
  bool parsable = false;    // --parsable: print only the id
  bool json = false;        // --json
  std::string controller;   // --controller, "" if not given
  std::string script_path;  // as given on the command line; "" with --wrap
  std::vector<std::string> script_args;  // the arguments after the script path; = spec.args
  bool help = false;   // -h/--help was given; help text is in SubmitHelp(); nothing else is set
  bool label = false;  // --label (corral run): prefix output lines with the task number
  // --input (corral run): which task reads its stdin: "" (task 0), "none", a task number, or
  // a file read instead of stdin (by task 0). corral submit refuses it.
  std::string input;
};

// Parses the arguments that follow `corral submit` and the directives of the script they name
// (read through read_file with the path as given, so tests need no files; not called with --wrap
// or --help). The first argument that is not an option (or everything after "--") is the script;
// the arguments after it are script_args, even when they look like options. As in sbatch, long
// options may be abbreviated to a unique prefix (--part=gpu); short options cannot be grouped.
// At most 256 option words before the script, and on one directive line.
// The script must be non-empty, start with "#!", and contain no NUL bytes or "\r\n" line ends.
// Results: spec.submit_dir = ctx.cwd; spec.user = ctx.user; spec.workdir = --chdir resolved
// against ctx.cwd, else ctx.cwd; relative -o/-e are resolved against spec.workdir (as in Slurm;
// the same as ctx.cwd unless --chdir is given) with %j/%x patterns kept verbatim; spec.name
// defaults to the script's file name ("wrap" with --wrap); spec.env follows --export (default
// ALL = ctx.environ). read_file's error is returned as is.
Result<SubmitCommand> ParseSubmit(
    const std::vector<std::string>& args, const SubmitContext& ctx,
    const std::function<Result<std::string>(const std::string& path)>& read_file);

// The --help text, grouped, with one-line descriptions and examples; generated from the table.
std::string SubmitHelp();

}  // namespace corral
