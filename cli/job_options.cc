#include "cli/job_options.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "cli/array_spec.h"
#include "cli/option_values.h"
#include "common/price.h"

namespace corral {
namespace {

namespace po = boost::program_options;

using option_values::BadValue;
using option_values::BuildEnv;
using option_values::CheckText;
using option_values::ExportSpec;
using option_values::ParseCount;
using option_values::ParseExport;
using option_values::ParseGpuFor;
using option_values::ParseMemFor;
using option_values::ParseSignalFor;
using option_values::ParseTimeFor;
using option_values::Printable;
using option_values::Quote;

// ---------------------------------------------------------------------------------------------
// The option table

// Everything the options can set; directives and then flags are applied to one of these.
struct Settings {
  JobSpec spec;
  bool name_given = false;
  std::string gpus_model;  // from --gpus
  std::string gpn_model;   // from --gpus-per-node
  std::optional<std::string> chdir, output, error, wrap;
  std::optional<ExportSpec> exports;
  std::string controller;
  bool parsable = false, json = false, help = false, label = false;
  std::string input;
};

// Validates `value` and stores it; `option` is "--<long name>" for messages.
using ApplyFn = Status (*)(std::string_view option, const std::string& value, Settings* s);

enum class Group { kResources, kPlacement, kFiles, kCliOnly };

struct OptionDef {
  const char* name;  // long name without "--"; the key Boost reports
  char short_name;   // '\0' if none
  const char* arg;   // the value's name in --help; nullptr for a switch
  Group group;       // kCliOnly options are refused in directives
  const char* help;  // one line
  ApplyFn apply;
};

Status SetCount(std::string_view option, const std::string& value, int32_t min, int32_t* out) {
  Result<int32_t> n = ParseCount(option, value, min);
  if (!n.ok()) return n.status();
  *out = *n;
  return Status::Ok();
}

Status SetText(std::string_view option, const std::string& value, std::string* out) {
  Status st = CheckText(option, value);
  if (st.ok()) *out = value;
  return st;
}

Status SetOptionalText(std::string_view option, const std::string& value,
                       std::optional<std::string>* out) {
  Status st = CheckText(option, value);
  if (st.ok()) *out = value;
  return st;
}

constexpr OptionDef kOptions[] = {
    {"nodes", 'N', "N", Group::kResources, "number of nodes (default 1)",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetCount(o, v, 1, &s->spec.nodes);
     }},
    {"ntasks", 'n', "N", Group::kResources, "number of tasks (default 1)",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetCount(o, v, 1, &s->spec.ntasks);
     }},
    {"cpus-per-task", 'c', "N", Group::kResources, "CPUs for each task (default 1)",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetCount(o, v, 1, &s->spec.cpus_per_task);
     }},
    {"mem", '\0', "SIZE", Group::kResources, "memory per node: 500 (MiB), 4G; suffixes K, M, G, T",
     [](std::string_view o, const std::string& v, Settings* s) {
       Result<int64_t> mib = ParseMemFor(o, v);
       if (!mib.ok()) return mib.status();
       s->spec.mem_mib = *mib;
       return Status::Ok();
     }},
    {"gpus", 'G', "[MODEL:]N", Group::kResources,
     "GPUs for the job, e.g. 4, h100:8, a100|h100:8, t4:0.5 (a half)",
     [](std::string_view o, const std::string& v, Settings* s) {
       return ParseGpuFor(o, v, &s->gpus_model, &s->spec.gpus, &s->spec.gpu_milli);
     }},
    {"gpus-per-node", '\0', "[MODEL:]N", Group::kResources, "GPUs on each node, e.g. h100:4",
     [](std::string_view o, const std::string& v, Settings* s) {
       return ParseGpuFor(o, v, &s->gpn_model, &s->spec.gpus_per_node);
     }},
    {"gpu-choice", '\0', "CHOICE", Group::kPlacement,
     "GPU model: fastest (ends soonest), cheapest (costs least), any",
     [](std::string_view o, const std::string& v, Settings* s) {
       if (!ParseGpuChoice(v, &s->spec.gpu_choice)) {
         return BadValue(o, v, "must be any, fastest or cheapest");
       }
       return Status::Ok();
     }},
    {"max-price", '\0', "CREDITS", Group::kPlacement,
     "the most to pay per GPU-hour, e.g. 2.5 (default: no cap)",
     [](std::string_view o, const std::string& v, Settings* s) {
       Result<int64_t> p = ParsePrice(o, v);
       if (!p.ok()) return p.status();
       if (*p == 0) return BadValue(o, v, "must be more than 0");
       s->spec.max_price_micro = *p;
       return Status::Ok();
     }},
    {"kind", '\0', "KIND", Group::kPlacement,
     "inference, training, rl or batch (default: inferred)",
     [](std::string_view o, const std::string& v, Settings* s) {
       if (!ParseJobKind(v, &s->spec.kind)) {
         return BadValue(o, v, "must be inference, training, rl or batch");
       }
       return Status::Ok();
     }},
    {"time", 't', "TIME", Group::kPlacement,
     "time limit: MIN, MM:SS, HH:MM:SS, D-HH[:MM[:SS]] or UNLIMITED",
     [](std::string_view o, const std::string& v, Settings* s) {
       Result<int64_t> ms = ParseTimeFor(o, v);
       if (!ms.ok()) return ms.status();
       s->spec.time_limit_ms = *ms;
       return Status::Ok();
     }},
    {"partition", 'p', "NAME[,..]", Group::kPlacement,
     "partition(s) to run in; of several, the one to start it first",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetText(o, v, &s->spec.partition);
     }},
    {"account", 'A', "NAME", Group::kPlacement, "account to charge",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetText(o, v, &s->spec.account);
     }},
    {"job-name", 'J', "NAME", Group::kFiles, "job name (default: the script's file name)",
     [](std::string_view o, const std::string& v, Settings* s) {
       Status st = SetText(o, v, &s->spec.name);
       if (st.ok()) s->name_given = true;
       return st;
     }},
    {"output", 'o', "PATTERN", Group::kFiles,
     "stdout file; %j = job id, %x = job name (default corral-%j.out)",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetOptionalText(o, v, &s->output);
     }},
    {"error", 'e', "PATTERN", Group::kFiles, "stderr file, same patterns (default: with stdout)",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetOptionalText(o, v, &s->error);
     }},
    {"chdir", 'D', "DIR", Group::kFiles, "working directory (default: the current directory)",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetOptionalText(o, v, &s->chdir);
     }},
    {"export", '\0', "VARS", Group::kFiles,
     "environment: ALL (default), NONE, or [ALL,]NAME[=VALUE],...",
     [](std::string_view o, const std::string& v, Settings* s) {
       Result<ExportSpec> e = ParseExport(o, v);
       if (!e.ok()) return e.status();
       s->exports = std::move(e).value();
       return Status::Ok();
     }},
    {"array", 'a', "INDICES", Group::kPlacement,
     "one job per index: 0-99, 1,3,5-7 or 0-15:4; %N: N at once",
     [](std::string_view o, const std::string& v, Settings* s) {
       Result<ArraySpec> a = ParseArraySpec(o, v);
       if (!a.ok()) return a.status();
       s->spec.array_indices = std::move(a->indices);
       s->spec.array_throttle = a->throttle;
       return Status::Ok();
     }},
    {"dependency", 'd', "TYPE:ID[:ID],...", Group::kPlacement,
     "after[ok|notok|any|corr]:ID, singleton; ',' all, '?' any",
     [](std::string_view o, const std::string& v, Settings* s) {
       auto d = ParseDependencies(o, v, &s->spec.dependency_any);
       if (!d.ok()) return d.status();
       s->spec.dependencies = std::move(d).value();
       return Status::Ok();
     }},
    {"hold", 'H', nullptr, Group::kPlacement, "submit held; start after `corral release`",
     [](std::string_view, const std::string&, Settings* s) {
       s->spec.hold = true;
       return Status::Ok();
     }},
    {"qos", 'q', "NAME", Group::kPlacement, "quality of service: its priority and limits",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetText(o, v, &s->spec.qos);
     }},
    {"reservation", '\0', "NAME", Group::kPlacement,
     "run in this advance reservation (corral admin reservation list)",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetText(o, v, &s->spec.reservation);
     }},
    {"signal", '\0', "[B:]SIG[@SECS]", Group::kPlacement,
     "signal SECS (60) before the time limit; B: batch script only",
     [](std::string_view o, const std::string& v, Settings* s) {
       return ParseSignalFor(o, v, &s->spec);
     }},
    {"nice", '\0', "N", Group::kPlacement, "lower the job's priority by N (0 to 10000000)",
     [](std::string_view o, const std::string& v, Settings* s) {
       int32_t n = 0;
       if (Status st = SetCount(o, v, 0, &n); !st.ok()) return st;
       if (n > 10000000) return BadValue(o, v, "must be at most 10000000");
       s->spec.nice = n;
       return Status::Ok();
     }},
    {"requeue", '\0', nullptr, Group::kPlacement,
     "requeue the job if its node is lost (the default)",
     [](std::string_view, const std::string&, Settings* s) {
       s->spec.requeue = true;
       return Status::Ok();
     }},
    {"no-requeue", '\0', nullptr, Group::kPlacement,
     "end NODE_FAIL if the job's node is lost; do not requeue",
     [](std::string_view, const std::string&, Settings* s) {
       s->spec.requeue = false;
       return Status::Ok();
     }},
    {"wrap", '\0', "COMMAND", Group::kCliOnly, "run COMMAND with /bin/sh; no script file",
     [](std::string_view o, const std::string& v, Settings* s) {
       if (v.empty()) return Status::Invalid(std::string(o) + ": the command is empty");
       if (v.find('\0') != std::string::npos) return BadValue(o, v, "contains a NUL byte");
       s->wrap = v;
       return Status::Ok();
     }},
    {"label", '\0', nullptr, Group::kCliOnly, "corral run: prefix output lines with the task",
     [](std::string_view, const std::string&, Settings* s) {
       s->label = true;
       return Status::Ok();
     }},
    {"input", 'i', "MODE", Group::kCliOnly,
     "corral run: stdin to task 0 (default), task N, none or FILE",
     [](std::string_view o, const std::string& v, Settings* s) {
       if (v.empty())
         return Status::Invalid(std::string(o) + ": empty; give none, a task or a file");
       if (v == "all") return BadValue(o, v, "stdin goes to one task; give its number");
       if (v.find('\0') != std::string::npos) return BadValue(o, v, "contains a NUL byte");
       s->input = v;
       return Status::Ok();
     }},
    {"parsable", '\0', nullptr, Group::kCliOnly, "print only the job id",
     [](std::string_view, const std::string&, Settings* s) {
       s->parsable = true;
       return Status::Ok();
     }},
    {"json", '\0', nullptr, Group::kCliOnly, "print the result as JSON",
     [](std::string_view, const std::string&, Settings* s) {
       s->json = true;
       return Status::Ok();
     }},
    {"controller", '\0', "HOST:PORT", Group::kCliOnly, "controller to submit to",
     [](std::string_view o, const std::string& v, Settings* s) {
       return SetText(o, v, &s->controller);
     }},
    {"help", 'h', nullptr, Group::kCliOnly, "show this help",
     [](std::string_view, const std::string&, Settings* s) {
       s->help = true;
       return Status::Ok();
     }},
};

const OptionDef* FindOption(std::string_view name) {
  for (const OptionDef& o : kOptions) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

// The Boost table built from kOptions; values are taken as strings and validated by `apply`.
const po::options_description& Table() {
  static const std::unique_ptr<po::options_description> desc = [] {
    auto d = std::make_unique<po::options_description>();
    for (const OptionDef& o : kOptions) {
      std::string names = o.name;
      if (o.short_name != '\0') (names += ',') += o.short_name;
      if (o.arg != nullptr) {
        d->add_options()(names.c_str(), po::value<std::string>(), o.help);
      } else {
        d->add_options()(names.c_str(), po::bool_switch(), o.help);
      }
    }
    return d;
  }();
  return *desc;
}

struct ParsedOption {
  const OptionDef* def;
  std::string value;  // "" for a switch
};

struct ParsedArgs {
  std::vector<ParsedOption> options;     // in order of appearance
  std::vector<std::string> positionals;  // the non-option tokens, in order
};

// Boost's parser does work proportional to the tokens left for each option it reads (quadratic
// overall), so one Boost parse gets at most this many tokens; more is refused, not left to stall.
constexpr size_t kMaxOptionTokens = 256;

// Boost's usual style without short-option grouping ("-hN"), which Boost handles in time
// quadratic in the token length; the only short switch is -h, so nothing is lost.
constexpr int kStyle =
    po::command_line_style::default_style & ~po::command_line_style::allow_sticky;

// Whether the option token `t` ("--name" or "-X", at least two characters) takes its value from
// the next token, by the same lookup Boost makes (long names may be abbreviated).
bool TakesNextToken(const std::string& t) {
  std::string name;
  const bool is_long = t[1] == '-';
  if (is_long) {
    if (t.find('=') != std::string::npos) return false;
    name = t.substr(2);
  } else {
    if (t.size() != 2) return false;
    name = t;
  }
  try {
    const po::option_description* d = Table().find_nothrow(name, is_long, false, false);
    return d != nullptr && d->semantic()->max_tokens() > 0;
  } catch (const po::error&) {
    return false;  // ambiguous; Boost reports it
  }
}

// The index in command-line `args` of the script or of "--" (args.size() if neither): the first
// token that is neither an option nor an option's value. Like sbatch, everything after the script
// belongs to the script, so only the tokens before it are options.
size_t OptionsEnd(const std::vector<std::string>& args) {
  size_t i = 0;
  while (i < args.size()) {
    const std::string& t = args[i];
    if (t == "--" || t.size() < 2 || t[0] != '-') break;
    i += TakesNextToken(t) ? 2 : 1;
  }
  return std::min(i, args.size());
}

// Runs the Boost table over `tokens` (at most kMaxOptionTokens). Boost exceptions become
// Status::Invalid.
Result<ParsedArgs> ParseTokens(const std::vector<std::string>& tokens) {
  ParsedArgs out;
  try {
    po::command_line_parser parser(tokens);
    parser.options(Table()).style(kStyle);
    po::parsed_options parsed = parser.run();
    for (po::option& o : parsed.options) {
      if (o.string_key.empty()) {
        for (std::string& v : o.value) out.positionals.push_back(std::move(v));
        continue;
      }
      const OptionDef* def = FindOption(o.string_key);
      if (def == nullptr) {
        return Status::Internal("option table mismatch for --" +
                                Printable(o.string_key, 64, false));
      }
      out.options.push_back(ParsedOption{def, o.value.empty() ? "" : o.value.front()});
    }
  } catch (const po::unknown_option& e) {
    return Status::Invalid("unknown option '" + Printable(e.get_option_name(), 64, false) +
                           "' (see corral submit --help)");
  } catch (const po::error& e) {
    return Status::Invalid(Printable(e.what(), 200, false));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("parsing options: ") + Printable(e.what(), 200, false));
  }
  return out;
}

// The command line: Boost parses the options before the script; the script and its arguments (or
// everything after "--") are the positionals.
Result<ParsedArgs> ParseCommandLine(const std::vector<std::string>& args) {
  const size_t end = OptionsEnd(args);
  if (end > kMaxOptionTokens) {
    return Status::Invalid("too many options: " + std::to_string(end) +
                           " arguments before the script (at most " +
                           std::to_string(kMaxOptionTokens) + ")");
  }
  Result<ParsedArgs> parsed =
      ParseTokens(std::vector<std::string>(args.begin(), args.begin() + end));
  if (!parsed.ok()) return parsed;
  const size_t rest = end < args.size() && args[end] == "--" ? end + 1 : end;
  parsed->positionals.insert(parsed->positionals.end(), args.begin() + rest, args.end());
  return parsed;
}

// Applies the command-line-only `options` (cli_only) or all the others (!cli_only), in order.
Status ApplyAll(const std::vector<ParsedOption>& options, bool cli_only, Settings* s) {
  for (const ParsedOption& o : options) {
    if ((o.def->group == Group::kCliOnly) != cli_only) continue;
    Status st = o.def->apply(std::string("--") + o.def->name, o.value, s);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

// sbatch's checks on the script text; the messages start with `where`.
Status CheckScript(const std::string& where, const std::string& script) {
  if (script.empty()) return Status::Invalid(where + ": the batch script is empty");
  auto line_of = [&](size_t pos) {
    return std::to_string(1 + std::count(script.begin(), script.begin() + pos, '\n'));
  };
  if (size_t nul = script.find('\0'); nul != std::string::npos) {
    return Status::Invalid(where + ": line " + line_of(nul) +
                           " contains a NUL byte; is this a binary file?");
  }
  if (size_t cr = script.find("\r\n"); cr != std::string::npos) {
    return Status::Invalid(where + ": line " + line_of(cr) +
                           " ends in a DOS line break (\\r\\n); convert the file with dos2unix");
  }
  if (!script.starts_with("#!")) {
    return Status::Invalid(where +
                           ": the first line must start with #! and an interpreter, "
                           "e.g. #!/bin/bash");
  }
  return Status::Ok();
}

// Applies the script's directives to `s`; errors read "<where>: line N: <reason>".
// A line `#CORRAL hetjob` (or `#SBATCH hetjob`) starts the next component of a heterogeneous
// job; the resource options after it go to that component (`het`), and only those are allowed.
Status ApplyDirectives(const std::string& where, const std::string& script, Settings* s,
                       std::vector<Settings>* het) {
  Result<std::vector<DirectiveLine>> lines = ExtractDirectiveLines(script);
  if (!lines.ok()) return Status::Invalid(where + ": " + lines.status().message());
  Settings* target = s;
  for (const DirectiveLine& line : *lines) {
    const std::string at = where + ": line " + std::to_string(line.line) + ": ";
    if (line.tokens.size() == 1 && (line.tokens[0] == "hetjob" || line.tokens[0] == "packjob")) {
      if (het->size() >= 63) return Status::Invalid(at + "at most 64 hetjob components");
      het->emplace_back();
      target = &het->back();
      continue;
    }
    if (line.tokens.size() > kMaxOptionTokens) {
      return Status::Invalid(at + "too many words (" + std::to_string(line.tokens.size()) +
                             "; at most " + std::to_string(kMaxOptionTokens) + " on one line)");
    }
    Result<ParsedArgs> parsed = ParseTokens(line.tokens);
    if (!parsed.ok()) return Status::Invalid(at + parsed.status().message());
    if (!parsed->positionals.empty()) {
      return Status::Invalid(at + "unexpected argument " + Quote(parsed->positionals.front()) +
                             " (quote values that contain spaces)");
    }
    for (const ParsedOption& o : parsed->options) {
      if (o.def->group == Group::kCliOnly) {
        return Status::Invalid(at + "--" + o.def->name +
                               " is only allowed on the command line, not in a directive");
      }
      if (target != s && o.def->group != Group::kResources) {
        return Status::Invalid(at + "--" + o.def->name +
                               ": after 'hetjob' only resource options (-N, -n, -c, --mem, "
                               "--gpus, --gpus-per-node) are allowed");
      }
      Status st = o.def->apply(std::string("--") + o.def->name, o.value, target);
      if (!st.ok()) return Status::Invalid(at + st.message());
    }
  }
  return Status::Ok();
}

// `p` made absolute against `base` and lexically normalised (no file system access).
std::string Resolve(const std::string& base, const std::string& p) {
  std::filesystem::path path(p);
  if (path.is_relative()) path = std::filesystem::path(base) / path;
  std::string out = path.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

Result<SubmitCommand> ParseSubmit(
    const std::vector<std::string>& args, const SubmitContext& ctx,
    const std::function<Result<std::string>(const std::string& path)>& read_file) {
  Result<ParsedArgs> cli = ParseCommandLine(args);
  if (!cli.ok()) return cli.status();
  SubmitCommand cmd;
  Settings s;
  std::vector<Settings> het;  // hetjob components 1.. from the directives
  if (Status st = ApplyAll(cli->options, /*cli_only=*/true, &s); !st.ok()) return st;
  if (s.help) {
    cmd.help = true;
    return cmd;
  }
  {  // Report bad flag values before touching the script.
    Settings scratch;
    if (Status st = ApplyAll(cli->options, /*cli_only=*/false, &scratch); !st.ok()) return st;
  }
  if (ctx.cwd.empty() || ctx.cwd[0] != '/') {
    return Status::FailedPrecondition("the current directory " + Quote(ctx.cwd) +
                                      " is not an absolute path");
  }

  std::string script;
  if (s.wrap) {
    if (!cli->positionals.empty()) {
      return Status::Invalid("--wrap cannot be combined with a script file (" +
                             Quote(cli->positionals.front()) + ")");
    }
    script = "#!/bin/sh\n" + *s.wrap + "\n";
  } else {
    if (cli->positionals.empty()) {
      return Status::Invalid(
          "no batch script given: name a script file or use --wrap \"command\" "
          "(see corral submit --help)");
    }
    cmd.script_path = cli->positionals.front();
    cmd.script_args.assign(cli->positionals.begin() + 1, cli->positionals.end());
    if (cmd.script_path.empty()) return Status::Invalid("the script path is empty");
    Result<std::string> text = read_file(cmd.script_path);
    if (!text.ok()) return text.status();
    script = std::move(text).value();
    const std::string where = Printable(cmd.script_path, 200, false);
    if (Status st = CheckScript(where, script); !st.ok()) return st;
    if (Status st = ApplyDirectives(where, script, &s, &het); !st.ok()) return st;
  }
  if (Status st = ApplyAll(cli->options, /*cli_only=*/false, &s); !st.ok()) return st;

  JobSpec& spec = s.spec;
  if (!s.gpus_model.empty() && !s.gpn_model.empty() && s.gpus_model != s.gpn_model) {
    return Status::Invalid("--gpus asks for " + Quote(s.gpus_model) +
                           " GPUs but --gpus-per-node for " + Quote(s.gpn_model) +
                           "; the GPU models must agree");
  }
  spec.gpu_model = s.gpus_model.empty() ? s.gpn_model : s.gpus_model;
  for (const Settings& h : het) {
    if (h.spec.gpu_milli > 0) {
      return Status::Invalid("hetjob component " + std::to_string(spec.het.size() + 1) +
                             ": --gpus: a share of a GPU is for the first component only");
    }
    if (!h.gpus_model.empty() && !h.gpn_model.empty() && h.gpus_model != h.gpn_model) {
      return Status::Invalid("hetjob component " + std::to_string(spec.het.size() + 1) +
                             ": the GPU models of --gpus and --gpus-per-node must agree");
    }
    spec.het.push_back({h.spec.nodes, h.spec.ntasks, h.spec.cpus_per_task, h.spec.mem_mib,
                        h.gpus_model.empty() ? h.gpn_model : h.gpus_model, h.spec.gpus,
                        h.spec.gpus_per_node});
  }
  if (spec.gpu_choice != GpuChoice::kAny) {
    const std::string o = std::string("--gpu-choice=") + GpuChoiceName(spec.gpu_choice);
    if (!spec.het.empty()) return Status::Invalid(o + ": for a job of one component, not a hetjob");
    if (spec.gpus == 0 && spec.gpus_per_node == 0) {
      return Status::Invalid(o + ": the job asks for no GPUs (--gpus)");
    }
    if (spec.gpu_milli > 0) return Status::Invalid(o + ": not for a share of a GPU");
    if (!spec.gpu_model.empty() && spec.gpu_model.find('|') == std::string::npos) {
      return Status::Invalid(o + ": --gpus names one model (" + spec.gpu_model +
                             "); name none, or alternatives (a|b)");
    }
  }
  if (!s.name_given) {
    if (s.wrap) {
      spec.name = "wrap";
    } else {
      const std::string base = cmd.script_path.substr(cmd.script_path.find_last_of('/') + 1);
      if (CheckText("", base).ok()) spec.name = base;  // else keep JobSpec's default
    }
  }
  spec.user = ctx.user;
  spec.submit_dir = ctx.cwd;
  spec.workdir = s.chdir ? Resolve(ctx.cwd, *s.chdir) : ctx.cwd;
  if (s.output) spec.output = Resolve(spec.workdir, *s.output);
  if (s.error) spec.error = Resolve(spec.workdir, *s.error);
  spec.env = BuildEnv(s.exports.value_or(ExportSpec{true, {}}), ctx.environ);
  spec.script = std::move(script);
  spec.args = cmd.script_args;

  cmd.spec = std::move(spec);
  cmd.parsable = s.parsable;
  cmd.label = s.label;
  cmd.input = s.input;
  cmd.json = s.json;
  cmd.controller = s.controller;
  return cmd;
}

std::string SubmitHelp() {
  std::string h =
      "Usage: corral submit [options] script [script arguments...]\n"
      "       corral submit [options] --wrap \"command\"\n"
      "\n"
      "Queues a batch job. Options can also be written in the script on \"#CORRAL\" or\n"
      "\"#SBATCH\" lines before its first command; the command line overrides them.\n";
  static constexpr std::pair<Group, const char*> kGroups[] = {
      {Group::kResources, "Resources"},
      {Group::kPlacement, "Time, partition and account"},
      {Group::kFiles, "Name, files and environment"},
      {Group::kCliOnly, "Command line only (not allowed in directives)"},
  };
  auto flag_text = [](const OptionDef& o) {
    std::string f = o.short_name != '\0' ? std::string("-") + o.short_name + ", " : "    ";
    f += std::string("--") + o.name;
    if (o.arg != nullptr) f += std::string("=") + o.arg;
    return f;
  };
  size_t width = 0;
  for (const OptionDef& o : kOptions) width = std::max(width, flag_text(o).size());
  for (const auto& [group, title] : kGroups) {
    h += std::string("\n") + title + ":\n";
    for (const OptionDef& o : kOptions) {
      if (o.group != group) continue;
      std::string f = flag_text(o);
      f.resize(width, ' ');
      h += "  " + f + "  " + o.help + "\n";
    }
  }
  h += "\n"
       "Examples:\n"
       "  corral submit job.sh                     # 1 node, 1 task, 1 CPU, no time limit\n"
       "  corral submit -N 2 --gpus-per-node=h100:4 -t 2:00:00 train.sh --epochs 10\n"
       "  corral submit -J hello -o hello-%j.out --wrap \"hostname\"\n"
       "  corral submit --parsable --export=PATH,HOME job.sh   # print only the id\n"
       "\n"
       "In a script:\n"
       "  #!/bin/bash\n"
       "  #CORRAL -J train -N 2\n"
       "  #SBATCH --gpus=h100:8 --time=1-00:00:00   # a comment\n"
       "  srun python train.py\n";
  return h;
}

}  // namespace corral
