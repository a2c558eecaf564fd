// Tests for cli/job_options.h: `corral submit` flags, directives and their interplay.
#include "cli/job_options.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace corral {
namespace {

using Args = std::vector<std::string>;
using Env = std::vector<std::pair<std::string, std::string>>;

const char kCwd[] = "/home/alice/work";

SubmitContext Ctx() {
  return SubmitContext{
      kCwd, "alice", {{"PATH", "/usr/bin"}, {"HOME", "/home/alice"}, {"LANG", "C"}}};
}

// A fake file system for read_file; counts reads.
struct Files {
  std::map<std::string, std::string> files;
  int reads = 0;
  std::function<Result<std::string>(const std::string&)> Reader() {
    return [this](const std::string& path) -> Result<std::string> {
      ++reads;
      auto it = files.find(path);
      if (it == files.end()) return Status::NotFound(path + ": no such file");
      return it->second;
    };
  }
};

// Submits `args` with "job.sh" holding `script`.
Result<SubmitCommand> Submit(const Args& args, const std::string& script = "#!/bin/bash\necho\n") {
  Files fs;
  fs.files["job.sh"] = script;
  return ParseSubmit(args, Ctx(), fs.Reader());
}

// The message of a failed submission ("" if it unexpectedly succeeded).
std::string Error(const Args& args, const std::string& script = "#!/bin/bash\necho\n") {
  Result<SubmitCommand> r = Submit(args, script);
  return r.ok() ? "" : r.status().message();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The fields a case checks; defaults are what an empty submission of job.sh gives.
struct Want {
  int32_t nodes = 1, ntasks = 1, cpus = 1;
  int64_t mem = 0;
  std::string gpu_model;
  int32_t gpus = 0, gpn = 0;
  int64_t time = 0;
  std::string name = "job.sh", partition, account;
};

void ExpectSpec(const JobSpec& s, const Want& w, const std::string& what) {
  EXPECT_EQ(s.nodes, w.nodes) << what;
  EXPECT_EQ(s.ntasks, w.ntasks) << what;
  EXPECT_EQ(s.cpus_per_task, w.cpus) << what;
  EXPECT_EQ(s.mem_mib, w.mem) << what;
  EXPECT_EQ(s.gpu_model, w.gpu_model) << what;
  EXPECT_EQ(s.gpus, w.gpus) << what;
  EXPECT_EQ(s.gpus_per_node, w.gpn) << what;
  EXPECT_EQ(s.time_limit_ms, w.time) << what;
  EXPECT_EQ(s.name, w.name) << what;
  EXPECT_EQ(s.partition, w.partition) << what;
  EXPECT_EQ(s.account, w.account) << what;
}

Want With(std::function<void(Want*)> f) {
  Want w;
  f(&w);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Directives

struct ScriptCase {
  const char* what;
  std::string script;
  Args args;
  Want want;
};

TEST(ParseSubmit, DirectiveScripts) {
  const ScriptCase cases[] = {
      {"no directives", "#!/bin/bash\nhostname\n", {}, Want{}},
      {"sbatch prefix",
       "#!/bin/bash\n#SBATCH -N 2\n#SBATCH --ntasks=8\nsrun x\n",
       {},
       With([](Want* w) { w->nodes = 2, w->ntasks = 8; })},
      {"corral prefix", "#!/bin/bash\n#CORRAL -c 4 --mem=4G\n", {}, With([](Want* w) {
         w->cpus = 4, w->mem = 4096;
       })},
      {"mixed prefixes",
       "#!/bin/bash\n#CORRAL -J a\n#SBATCH -p gpu\n#CORRAL -A proj\n",
       {},
       With([](Want* w) { w->name = "a", w->partition = "gpu", w->account = "proj"; })},
      {"quoted name",
       "#!/bin/bash\n#SBATCH -J \"my job\"\n#SBATCH --job-name='x'\"y z\"\n",
       {},
       With([](Want* w) { w->name = "xy z"; })},
      {"comments",
       "#!/bin/bash\n# setup\n#SBATCH -N 3 # three nodes\n\n#SBATCH -t 5 #-t 9\n",
       {},
       With([](Want* w) { w->nodes = 3, w->time = 5 * 60000; })},
      {"stop at first command",
       "#!/bin/bash\n#SBATCH -N 2\nmodule load x\n#SBATCH -N 7\n",
       {},
       With([](Want* w) { w->nodes = 2; })},
      {"last directive wins", "#!/bin/bash\n#SBATCH -N 2\n#CORRAL -N 5\n", {}, With([](Want* w) {
         w->nodes = 5;
       })},
      {"gpus", "#!/bin/bash\n#SBATCH --gpus=H100:8 --gpus-per-node=4\n", {}, With([](Want* w) {
         w->gpu_model = "h100", w->gpus = 8, w->gpn = 4;
       })},
      {"gpus-per-node model",
       "#!/bin/bash\n#SBATCH --gpus-per-node=a100:2 -G 4\n",
       {},
       With([](Want* w) { w->gpu_model = "a100", w->gpus = 4, w->gpn = 2; })},
      {"attached short values", "#!/bin/bash\n#SBATCH -N2 -n16\n", {}, With([](Want* w) {
         w->nodes = 2, w->ntasks = 16;
       })},
      {"flags with the script", "#!/bin/bash\n#SBATCH -N 2\n", {"-n", "3"}, With([](Want* w) {
         w->nodes = 2, w->ntasks = 3;
       })},
  };
  for (const ScriptCase& c : cases) {
    Args args = c.args;
    args.push_back("job.sh");
    Result<SubmitCommand> r = Submit(args, c.script);
    ASSERT_TRUE(r.ok()) << c.what << ": " << r.status().ToString();
    ExpectSpec(r->spec, c.want, c.what);
    EXPECT_EQ(r->spec.script, c.script) << c.what;
  }
}

TEST(ParseSubmit, FlagsOverrideDirectives) {
  const std::string script =
      "#!/bin/bash\n#SBATCH -N 2 -J from-script -t 10\n#CORRAL --gpus=h100:2 -p batch\n";
  Result<SubmitCommand> r = Submit({"-N", "4", "--time=1:00:00", "-G", "3", "job.sh"}, script);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Overridden: nodes, time, gpus (as a whole: the model goes too). Kept: name, partition.
  ExpectSpec(r->spec, With([](Want* w) {
               w->nodes = 4, w->time = 3600000, w->gpus = 3, w->name = "from-script",
               w->partition = "batch";
             }),
             "override");
  // Without flags the directives stand.
  r = Submit({"job.sh"}, script);
  ASSERT_TRUE(r.ok());
  ExpectSpec(r->spec, With([](Want* w) {
               w->nodes = 2, w->time = 600000, w->gpus = 2, w->gpu_model = "h100",
               w->name = "from-script", w->partition = "batch";
             }),
             "directives only");
}

TEST(ParseSubmit, FlagsAreCheckedBeforeTheScriptIsRead) {
  Files fs;
  Result<SubmitCommand> r = ParseSubmit({"-N", "0", "missing.sh"}, Ctx(), fs.Reader());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "--nodes: \"0\" is not a positive integer");
  EXPECT_EQ(fs.reads, 0);
}

// ---------------------------------------------------------------------------------------------
// Each option's good values, as flags and as directives

struct OptionCase {
  Args flags;
  Want want;
};

TEST(ParseSubmit, GoodOptionValues) {
  const OptionCase cases[] = {
      {{"-N", "3"}, With([](Want* w) { w->nodes = 3; })},
      {{"-N3"}, With([](Want* w) { w->nodes = 3; })},
      {{"--nodes=3"}, With([](Want* w) { w->nodes = 3; })},
      {{"--nodes", "007"}, With([](Want* w) { w->nodes = 7; })},
      {{"-n", "64"}, With([](Want* w) { w->ntasks = 64; })},
      {{"--ntasks=2147483647"}, With([](Want* w) { w->ntasks = 2147483647; })},
      {{"-c", "8"}, With([](Want* w) { w->cpus = 8; })},
      {{"--cpus-per-task=1"}, Want{}},
      {{"--mem=500"}, With([](Want* w) { w->mem = 500; })},
      {{"--mem", "4G"}, With([](Want* w) { w->mem = 4096; })},
      {{"--mem=4g"}, With([](Want* w) { w->mem = 4096; })},
      {{"--mem=2048M"}, With([](Want* w) { w->mem = 2048; })},
      {{"--mem=1T"}, With([](Want* w) { w->mem = 1048576; })},
      {{"--mem=1536K"}, With([](Want* w) { w->mem = 2; })},  // rounded up
      {{"--mem=1k"}, With([](Want* w) { w->mem = 1; })},
      {{"-G", "4"}, With([](Want* w) { w->gpus = 4; })},
      {{"--gpus=h100:2"}, With([](Want* w) { w->gpus = 2, w->gpu_model = "h100"; })},
      {{"-G", "A100-80GB:1"}, With([](Want* w) { w->gpus = 1, w->gpu_model = "a100-80gb"; })},
      {{"--gpus=0"}, Want{}},
      {{"--gpus=h100:0"}, Want{}},  // zero GPUs: the model is dropped
      {{"--gpus-per-node=8"}, With([](Want* w) { w->gpn = 8; })},
      {{"--gpus-per-node", "mi300x:8"}, With([](Want* w) { w->gpn = 8, w->gpu_model = "mi300x"; })},
      {{"--gpus=h100:16", "--gpus-per-node=H100:8"},
       With([](Want* w) { w->gpus = 16, w->gpn = 8, w->gpu_model = "h100"; })},
      {{"-t", "30"}, With([](Want* w) { w->time = 30 * 60000; })},
      {{"--time=0"}, Want{}},
      {{"--time=UNLIMITED"}, Want{}},
      {{"--time=infinite"}, Want{}},
      {{"-t", "1-12"}, With([](Want* w) { w->time = 36 * 3600000LL; })},
      {{"-J", "train"}, With([](Want* w) { w->name = "train"; })},
      {{"--job-name=a b"}, With([](Want* w) { w->name = "a b"; })},
      {{"-p", "gpu"}, With([](Want* w) { w->partition = "gpu"; })},
      {{"--partition=debug"}, With([](Want* w) { w->partition = "debug"; })},
      {{"-A", "physics"}, With([](Want* w) { w->account = "physics"; })},
      {{"--account=chem"}, With([](Want* w) { w->account = "chem"; })},
      {{"-N", "2", "-n", "4", "-c", "2", "-J", "x", "-t", "2:00"}, With([](Want* w) {
         w->nodes = 2, w->ntasks = 4, w->cpus = 2, w->name = "x", w->time = 120000;
       })},
  };
  for (const OptionCase& c : cases) {
    std::string what;
    for (const std::string& f : c.flags) what += f + " ";
    Args args = c.flags;
    args.push_back("job.sh");
    Result<SubmitCommand> r = Submit(args);
    ASSERT_TRUE(r.ok()) << what << ": " << r.status().ToString();
    ExpectSpec(r->spec, c.want, "flags " + what);
    // The same tokens as a directive give the same job.
    std::string line = "#SBATCH";
    for (const std::string& f : c.flags) line += " '" + f + "'";
    r = Submit({"job.sh"}, "#!/bin/sh\n" + line + "\n");
    ASSERT_TRUE(r.ok()) << line << ": " << r.status().ToString();
    ExpectSpec(r->spec, c.want, line);
  }
}

TEST(ParseSubmit, GpuModelsMustAgree) {
  EXPECT_EQ(Error({"--gpus=h100:8", "--gpus-per-node=a100:4", "job.sh"}),
            "--gpus asks for \"h100\" GPUs but --gpus-per-node for \"a100\"; the GPU models must "
            "agree");
  // Directive and flag disagree: the same check after the merge.
  EXPECT_EQ(Error({"--gpus-per-node=a100:4", "job.sh"}, "#!/bin/sh\n#SBATCH --gpus=h100:8\n"),
            "--gpus asks for \"h100\" GPUs but --gpus-per-node for \"a100\"; the GPU models must "
            "agree");
  // A flag replaces the whole directive value, model included.
  Result<SubmitCommand> r = Submit({"--gpus=a100:8", "job.sh"},
                                   "#!/bin/sh\n#SBATCH --gpus=h100:8 --gpus-per-node=a100:4\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.gpu_model, "a100");
}

TEST(ParseSubmit, ShareOfAGpu) {
  Result<SubmitCommand> r = Submit({"--gpus=t4:0.5", "job.sh"}, "#!/bin/sh\ntrue\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.gpu_model, "t4");
  EXPECT_EQ(r->spec.gpus, 1);
  EXPECT_EQ(r->spec.gpu_milli, 500);
  // A whole count given later replaces the share.
  r = Submit({"--gpus=2", "job.sh"}, "#!/bin/sh\n#SBATCH --gpus=0.25\ntrue\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.gpus, 2);
  EXPECT_EQ(r->spec.gpu_milli, 0);
  EXPECT_EQ(
      Error({"job.sh"}, "#!/bin/sh\n#CORRAL -n 1\n#CORRAL hetjob\n#CORRAL --gpus=0.5\ntrue\n"),
      "hetjob component 1: --gpus: a share of a GPU is for the first component only");
}

TEST(ParseSubmit, GpuChoicePriceAndKind) {
  Result<SubmitCommand> r =
      Submit({"--gpus=4", "--gpu-choice=cheapest", "--max-price=2.75", "job.sh"},
             "#!/bin/sh\n#SBATCH --kind=training\ntrue\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.gpu_choice, GpuChoice::kCheapest);
  EXPECT_EQ(r->spec.max_price_micro, 2750000);
  EXPECT_EQ(r->spec.kind, JobKind::kTraining);
  r = Submit({"--gpus=a100|h100:2", "--gpu-choice", "fastest", "job.sh"}, "#!/bin/sh\ntrue\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.gpu_choice, GpuChoice::kFastest);
  EXPECT_EQ(r->spec.kind, JobKind::kUnset);  // inferred where shown
  const std::string sh = "#!/bin/sh\ntrue\n";
  EXPECT_EQ(Error({"--gpus=1", "--gpu-choice=quick", "job.sh"}, sh),
            "--gpu-choice: \"quick\" must be any, fastest or cheapest");
  EXPECT_EQ(Error({"--gpu-choice=fastest", "job.sh"}, sh),
            "--gpu-choice=fastest: the job asks for no GPUs (--gpus)");
  EXPECT_EQ(Error({"--gpus=h100:2", "--gpu-choice=cheapest", "job.sh"}, sh),
            "--gpu-choice=cheapest: --gpus names one model (h100); name none, or alternatives "
            "(a|b)");
  EXPECT_EQ(Error({"--gpus=0.5", "--gpu-choice=cheapest", "job.sh"}, sh),
            "--gpu-choice=cheapest: not for a share of a GPU");
  EXPECT_EQ(Error({"--gpus=1", "--gpu-choice=cheapest", "job.sh"},
                  "#!/bin/sh\n#CORRAL hetjob\n#CORRAL -n 2\ntrue\n"),
            "--gpu-choice=cheapest: for a job of one component, not a hetjob");
  for (const char* bad : {"--max-price=-1", "--max-price=abc", "--max-price=1e3", "--max-price=0",
                          "--max-price=1.1234567", "--max-price=5000000"}) {
    std::string e = Error({bad, "job.sh"}, sh);
    EXPECT_EQ(e.rfind("--max-price", 0), 0u) << bad << ": " << e;
  }
  EXPECT_EQ(Error({"--kind=serving", "job.sh"}, sh),
            "--kind: \"serving\" must be inference, training, rl or batch");
}

// ---------------------------------------------------------------------------------------------
// Paths, names, wrap, export, script arguments, CLI-only flags

TEST(ParseSubmit, PathsAndPatterns) {
  struct Case {
    Args flags;
    std::string workdir, output, error;
  };
  const std::string cwd = kCwd;
  const Case cases[] = {
      {{}, cwd, "", ""},
      {{"-o", "out-%j.txt"}, cwd, cwd + "/out-%j.txt", ""},
      {{"--output=logs/%x-%j.out", "-e", "/tmp/%x.%j.err"},
       cwd,
       cwd + "/logs/%x-%j.out",
       "/tmp/%x.%j.err"},
      {{"-o", "./a/../b-%A_%a.txt"}, cwd, cwd + "/b-%A_%a.txt", ""},
      {{"-D", "sub", "-o", "o-%j"}, cwd + "/sub", cwd + "/sub/o-%j", ""},
      {{"--chdir=/scratch/", "--error=e%%"}, "/scratch", "", "/scratch/e%%"},
      {{"-D", ".."}, "/home/alice", "", ""},
  };
  for (const Case& c : cases) {
    Args args = c.flags;
    args.push_back("job.sh");
    Result<SubmitCommand> r = Submit(args);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->spec.workdir, c.workdir);
    EXPECT_EQ(r->spec.output, c.output);
    EXPECT_EQ(r->spec.error, c.error);
    EXPECT_EQ(r->spec.submit_dir, cwd);
    EXPECT_EQ(r->spec.user, "alice");
  }
  // Patterns from directives are kept verbatim too.
  Result<SubmitCommand> r = Submit({"job.sh"}, "#!/bin/sh\n#SBATCH -o 'r %x-%j.log'\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spec.output, cwd + "/r %x-%j.log");
}

TEST(ParseSubmit, DefaultNameIsTheScriptFileName) {
  Files fs;
  fs.files["/opt/jobs/train.sbatch"] = "#!/bin/sh\n";
  Result<SubmitCommand> r = ParseSubmit({"/opt/jobs/train.sbatch"}, Ctx(), fs.Reader());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.name, "train.sbatch");
  EXPECT_EQ(r->script_path, "/opt/jobs/train.sbatch");
}

TEST(ParseSubmit, Wrap) {
  Files fs;  // empty: any read fails, and reads are counted
  Result<SubmitCommand> r =
      ParseSubmit({"--wrap", "hostname; sleep 1", "-N", "2"}, Ctx(), fs.Reader());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.script, "#!/bin/sh\nhostname; sleep 1\n");
  EXPECT_EQ(r->script_path, "");
  EXPECT_TRUE(r->script_args.empty());
  EXPECT_EQ(r->spec.name, "wrap");
  EXPECT_EQ(r->spec.nodes, 2);
  EXPECT_EQ(fs.reads, 0);

  r = ParseSubmit({"--wrap=echo \"#SBATCH -N 9\"", "-J", "w"}, Ctx(), fs.Reader());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spec.nodes, 1);
  EXPECT_EQ(r->spec.name, "w");

  EXPECT_EQ(Error({"--wrap", "hostname", "job.sh"}),
            "--wrap cannot be combined with a script file (\"job.sh\")");
  EXPECT_EQ(Error({"--wrap="}),
            "the argument for option '--wrap' should follow immediately after the equal sign");
  EXPECT_EQ(Error({"--wrap", ""}), "--wrap: the command is empty");
  EXPECT_EQ(Error({"--wrap"}), "the required argument for option '--wrap' is missing");
}

TEST(ParseSubmit, Export) {
  struct Case {
    Args flags;
    Env env;
  };
  const Env all = Ctx().environ;
  const Case cases[] = {
      {{}, all},
      {{"--export=ALL"}, all},
      {{"--export=all"}, all},
      {{"--export=NONE"}, {}},
      {{"--export=PATH"}, {{"PATH", "/usr/bin"}}},
      {{"--export", "LANG,PATH,X=1"}, {{"LANG", "C"}, {"PATH", "/usr/bin"}, {"X", "1"}}},
      {{"--export=UNSET_VAR,HOME"}, {{"HOME", "/home/alice"}}},
      {{"--export=X=a=b,Y="}, {{"X", "a=b"}, {"Y", ""}}},
      {{"--export=ALL,X=1"},
       {{"PATH", "/usr/bin"}, {"HOME", "/home/alice"}, {"LANG", "C"}, {"X", "1"}}},
      {{"--export=ALL,HOME=/x"}, {{"PATH", "/usr/bin"}, {"HOME", "/x"}, {"LANG", "C"}}},
      {{"--export=X=1,X=2"}, {{"X", "2"}}},
      {{"--export=NONE", "--export=PATH"}, {{"PATH", "/usr/bin"}}},  // the last one wins
  };
  for (const Case& c : cases) {
    Args args = c.flags;
    args.push_back("job.sh");
    Result<SubmitCommand> r = Submit(args);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->spec.env, c.env) << (c.flags.empty() ? "default" : c.flags.front());
  }
  // As a directive, overridden by a flag.
  Result<SubmitCommand> r = Submit({"job.sh"}, "#!/bin/sh\n#SBATCH --export=NONE\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->spec.env.empty());
  r = Submit({"--export=LANG", "job.sh"}, "#!/bin/sh\n#SBATCH --export=NONE\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spec.env, (Env{{"LANG", "C"}}));

  const std::pair<const char*, const char*> bad[] = {
      {"--export=1X", "--export: \"1X\" is not a variable name (letters, digits and '_')"},
      {"--export=A-B=1", "--export: \"A-B\" is not a variable name (letters, digits and '_')"},
      {"--export==1", "--export: \"\" is not a variable name (letters, digits and '_')"},
      {"--export=A,,B", "--export: \"A,,B\" has an empty entry"},
      {"--export=A,", "--export: \"A,\" has an empty entry"},
      {"--export=NONE,X=1",
       "--export: \"NONE,X=1\" combines NONE with other entries; list only "
       "the variables"},
      {"--export=X,ALL", "--export: \"X,ALL\" has ALL after other entries; ALL must come first"},
  };
  for (const auto& [flag, message] : bad) EXPECT_EQ(Error({flag, "job.sh"}), message) << flag;
}

TEST(ParseSubmit, ScriptArguments) {
  Result<SubmitCommand> r = Submit({"-N", "2", "job.sh", "-N", "5", "--epochs=3", "x y"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->script_path, "job.sh");
  EXPECT_EQ(r->script_args, (Args{"-N", "5", "--epochs=3", "x y"}));
  EXPECT_EQ(r->spec.args, r->script_args);
  EXPECT_EQ(r->spec.nodes, 2);  // options after the script belong to it

  r = Submit({"--", "job.sh", "--help"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->script_args, (Args{"--help"}));
  EXPECT_FALSE(r->help);

  r = Submit({"-J", "name", "job.sh"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->script_args.empty());
  EXPECT_EQ(r->spec.name, "name");
}

TEST(ParseSubmit, CommandLineOnlyFlags) {
  Result<SubmitCommand> r = Submit({"--parsable", "--json", "--controller", "ctl:6817", "job.sh"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->parsable);
  EXPECT_TRUE(r->json);
  EXPECT_EQ(r->controller, "ctl:6817");
  EXPECT_FALSE(r->help);

  r = Submit({"job.sh"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->parsable);
  EXPECT_FALSE(r->json);
  EXPECT_EQ(r->controller, "");

  for (const Args& args : {Args{"-h"}, Args{"--help"}, Args{"-N", "2", "--help", "nope.sh"}}) {
    Files fs;
    r = ParseSubmit(args, Ctx(), fs.Reader());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->help);
    EXPECT_EQ(fs.reads, 0);
  }
  EXPECT_EQ(Error({"--parsable=yes", "job.sh"}), "option '--parsable' does not take any arguments");
}

TEST(ParseSubmit, DirectiveOnlyTheCommandLineMayCarry) {
  for (const char* line :
       {"--parsable", "--json", "--wrap=hostname", "--controller=x:1", "-h", "--help"}) {
    const std::string msg =
        Error({"job.sh"}, std::string("#!/bin/sh\n#SBATCH -N 1\n#SBATCH ") + line + "\n");
    const std::string name = std::string(line) == "-h"
                                 ? "--help"
                                 : std::string(line).substr(0, std::string(line).find('='));
    EXPECT_EQ(
        msg, "job.sh: line 3: " + name + " is only allowed on the command line, not in a directive")
        << line;
  }
}

TEST(ParseSubmit, HelpText) {
  const std::string h = SubmitHelp();
  for (const char* part : {"Usage: corral submit",
                           "-N, --nodes=N",
                           "-n, --ntasks=N",
                           "-c, --cpus-per-task=N",
                           "--mem=SIZE",
                           "-G, --gpus=[MODEL:]N",
                           "--gpus-per-node=[MODEL:]N",
                           "-t, --time=TIME",
                           "-p, --partition=NAME",
                           "-o, --output=PATTERN",
                           "-e, --error=PATTERN",
                           "-D, --chdir=DIR",
                           "--export=VARS",
                           "-A, --account=NAME",
                           "-J, --job-name=NAME",
                           "--wrap=COMMAND",
                           "--parsable",
                           "--json",
                           "--controller=HOST:PORT",
                           "-h, --help",
                           "Resources:",
                           "Command line only",
                           "Examples:",
                           "#SBATCH"}) {
    EXPECT_TRUE(Contains(h, part)) << part;
  }
  for (size_t start = 0, end; start < h.size(); start = end + 1) {
    end = h.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 100u) << h.substr(start, end - start);
  }
}

// The examples in the help text are valid submissions.
TEST(ParseSubmit, HelpExamplesParse) {
  const std::string h = SubmitHelp();
  Files fs;
  fs.files["job.sh"] = fs.files["train.sh"] = "#!/bin/sh\n";
  int commands = 0;
  std::string script;
  for (size_t start = 0, end; start < h.size(); start = end + 1) {
    end = h.find('\n', start);
    const std::string line = h.substr(start, end - start);
    if (line.rfind("  corral submit -", 0) == 0 || line.rfind("  corral submit job", 0) == 0) {
      Result<std::vector<std::string>> words = SplitDirectiveWords(line);
      ASSERT_TRUE(words.ok()) << line;
      Result<SubmitCommand> r =
          ParseSubmit(Args(words->begin() + 2, words->end()), Ctx(), fs.Reader());
      EXPECT_TRUE(r.ok()) << line << ": " << r.status().ToString();
      ++commands;
    } else if (line.rfind("  #", 0) == 0 || (!script.empty() && line.rfind("  ", 0) == 0)) {
      script += line.substr(2) + "\n";
    }
  }
  EXPECT_EQ(commands, 4);
  fs.files["example.sh"] = script;
  Result<SubmitCommand> r = ParseSubmit({"example.sh"}, Ctx(), fs.Reader());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.name, "train");
  EXPECT_EQ(r->spec.nodes, 2);
  EXPECT_EQ(r->spec.gpus, 8);
  EXPECT_EQ(r->spec.time_limit_ms, 24 * 3600 * 1000LL);
}

// ---------------------------------------------------------------------------------------------
// Hostile and malformed input

struct ErrorCase {
  Args args;
  std::string script;
  std::string message;  // exact
};

TEST(ParseSubmit, MalformedInputIsAnErrorNamingWhatAndWhere) {
  const std::string sh = "#!/bin/sh\n";
  const ErrorCase cases[] = {
      // Directives: the script, the line and the reason.
      {{"job.sh"},
       sh + "#SBATCH -N 2\n\n#SBATCH --frobnicate=3\n",
       "job.sh: line 4: unknown option '--frobnicate=3' (see corral submit --help)"},
      {{"job.sh"},
       sh + "#CORRAL -y\n",
       "job.sh: line 2: unknown option '-y' (see corral submit --help)"},
      {{"job.sh"},
       sh + "#CORRAL -q\n",
       "job.sh: line 2: the required argument for option '--qos' is missing"},
      {{"job.sh"},
       sh + "#SBATCH -N -2\n",
       "job.sh: line 2: --nodes: \"-2\" is not a positive integer"},
      {{"job.sh"},
       sh + "#SBATCH --mem=-5G\n",
       "job.sh: line 2: --mem: \"-5G\" is not a memory size (a number with an optional K, M, G or "
       "T suffix, e.g. 4G; no suffix means M)"},
      {{"job.sh"},
       sh + "#SBATCH -N\n",
       "job.sh: line 2: the required argument for option '--nodes' is missing"},
      {{"job.sh"},
       sh + "#SBATCH -J my job\n",
       "job.sh: line 2: unexpected argument \"job\" (quote values that contain spaces)"},
      {{"job.sh"}, sh + "#SBATCH -J \"my job\n", "job.sh: line 2: unterminated double quote"},
      {{"job.sh"},
       sh + "#SBATCH --n=2\n",
       "job.sh: line 2: option '--n=2' is ambiguous and matches '--nice', '--no-requeue', "
       "'--nodes', and '--ntasks'"},
      {{"job.sh"}, sh + "#SBATCH -J \"\"\n", "job.sh: line 2: --job-name: the value is empty"},
      {{"job.sh"},
       sh + "#SBATCH -J \"a\tb\"\n",
       "job.sh: line 2: --job-name: \"a\\x09b\" contains a control character"},
      // Flags: the option, the value and the reason.
      {{"-N", "-2", "job.sh"}, sh, "--nodes: \"-2\" is not a positive integer"},
      {{"--nodes=0", "job.sh"}, sh, "--nodes: \"0\" is not a positive integer"},
      {{"-n", "2x", "job.sh"}, sh, "--ntasks: \"2x\" is not a positive integer"},
      {{"-c", "", "job.sh"}, sh, "--cpus-per-task: \"\" is not a positive integer"},
      {{"-c", " 2", "job.sh"}, sh, "--cpus-per-task: \" 2\" is not a positive integer"},
      {{"--nodes=99999999999", "job.sh"},
       sh,
       "--nodes: \"99999999999\" is too large (at most 2147483647)"},
      {{"--nodes=2147483648", "job.sh"},
       sh,
       "--nodes: \"2147483648\" is too large (at most 2147483647)"},
      {{"--mem=0", "job.sh"}, sh, "--mem: \"0\" must be greater than 0"},
      {{"--mem=99999999999999999999T", "job.sh"},
       sh,
       "--mem: \"99999999999999999999T\" is too large"},
      {{"-t", "forever", "job.sh"},
       sh,
       "--time: \"forever\" is not a time limit (use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, "
       "D-HH:MM:SS or UNLIMITED)"},
      {{"-G", "h100", "job.sh"},
       sh,
       "--gpus: \"h100\" is not a GPU request ([model:]count, e.g. h100:2 or 4)"},
      {{"--gpus-per-node=x:-1", "job.sh"},
       sh,
       "--gpus-per-node: \"x:-1\" is not a GPU request ([model:]count, e.g. h100:2 or 4)"},
      {{"--frobnicate", "job.sh"}, sh, "unknown option '--frobnicate' (see corral submit --help)"},
      {{"-J"}, sh, "the required argument for option '--job-name' is missing"},
      {{"-J", "-N", "job.sh"}, sh, "the required argument for option '--job-name' is missing"},
      {{"-p", "", "job.sh"}, sh, "--partition: the value is empty"},
      {{"--mem="},
       sh,
       "the argument for option '--mem' should follow immediately after the equal sign"},
      {{"job.sh"},
       sh + "#SBATCH -n=1\n",
       "job.sh: line 2: --ntasks: \"=1\" is not a positive integer"},
      // The script itself.
      {{},
       sh,
       "no batch script given: name a script file or use --wrap \"command\" (see corral "
       "submit --help)"},
      {{"-N", "2"},
       sh,
       "no batch script given: name a script file or use --wrap \"command\" (see "
       "corral submit --help)"},
      {{"job.sh"}, "", "job.sh: the batch script is empty"},
      {{"job.sh"},
       "echo hi\n",
       "job.sh: the first line must start with #! and an interpreter, e.g. #!/bin/bash"},
      {{"job.sh"},
       "#!/bin/sh\r\n#SBATCH -N 2\r\n",
       "job.sh: line 1 ends in a DOS line break (\\r\\n); convert the file with dos2unix"},
      {{"job.sh"},
       std::string("#!/bin/sh\necho\n\x7f"
                   "ELF\0\0",
                   21),
       "job.sh: line 3 contains a NUL byte; is this a binary file?"},
      {{"other.sh"}, sh, "other.sh: no such file"},
      {{""}, sh, "the script path is empty"},
  };
  for (const ErrorCase& c : cases) {
    Result<SubmitCommand> r = Submit(c.args, c.script);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(ParseSubmit, RelativeWorkingDirectoryIsRefused) {
  Files fs;
  fs.files["job.sh"] = "#!/bin/sh\n";
  SubmitContext ctx = Ctx();
  ctx.cwd = "relative/dir";
  Result<SubmitCommand> r = ParseSubmit({"job.sh"}, ctx, fs.Reader());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
}

TEST(ParseSubmit, HugeAndBinaryValuesGiveShortPrintableErrors) {
  const std::string big(1 << 20, '9');
  std::string msg = Error({"--nodes=" + big, "job.sh"});
  EXPECT_EQ(msg.rfind("--nodes: \"9999", 0), 0u) << msg.substr(0, 200);
  EXPECT_LT(msg.size(), 200u);

  msg = Error({"job.sh"}, "#!/bin/sh\n#SBATCH --" + std::string(1 << 20, 'z') + "\n");
  EXPECT_EQ(msg.rfind("job.sh: line 2: unknown option '--zzz", 0), 0u) << msg.substr(0, 200);
  EXPECT_LT(msg.size(), 300u);

  msg = Error({"job.sh"}, "#!/bin/sh\n#SBATCH -J ok " + std::string(1 << 20, 'w') + "\n");
  EXPECT_EQ(msg.rfind("job.sh: line 2: unexpected argument \"www", 0), 0u) << msg.substr(0, 200);
  EXPECT_LT(msg.size(), 300u);

  // A megabyte name is allowed (no limit here), and comes through whole.
  Result<SubmitCommand> r = Submit({"job.sh"}, "#!/bin/sh\n#SBATCH -J " + big + "\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.name, big);

  msg = Error({"job.sh"}, "#!/bin/sh\n#SBATCH -J \x01\xff\xfe\n");
  EXPECT_EQ(msg, "job.sh: line 2: --job-name: \"\\x01\\xff\\xfe\" contains a control character");
  msg = Error({"job.sh"}, "#!/bin/sh\n#SBATCH --\xff\xfe=1\n");
  EXPECT_EQ(msg, "job.sh: line 2: unknown option '--\\xff\\xfe=1' (see corral submit --help)");
  msg = Error({std::string("-N\0", 3), "job.sh"});
  EXPECT_EQ(msg, "--nodes: \"\\x00\" is not a positive integer");
}

TEST(ParseSubmit, ThousandsOfDirectives) {
  std::string script = "#!/bin/bash\n";
  for (int i = 1; i <= 5000; ++i) {
    script += "#SBATCH -N " + std::to_string(i) + " --mem=" + std::to_string(i) + "M\n";
    script += "#CORRAL --export=ALL,V" + std::to_string(i) + "=x\n";
  }
  const auto start = std::chrono::steady_clock::now();
  Result<SubmitCommand> r = Submit({"job.sh"}, script);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.nodes, 5000);
  EXPECT_EQ(r->spec.mem_mib, 5000);
  EXPECT_EQ(r->spec.env.size(), 4u);  // the last --export wins
  EXPECT_LT(elapsed, std::chrono::seconds(20));

  // An error deep in the script still names its line.
  script += "#SBATCH --bogus\n";
  EXPECT_EQ(Error({"job.sh"}, script),
            "job.sh: line 10002: unknown option '--bogus' (see corral submit --help)");
}

// Boost's parser is quadratic in the number of tokens it is given, and in the length of a group
// of short switches; these inputs must be refused or handled quickly, not stall.
TEST(ParseSubmit, ManyTokensNeverStall) {
  const auto start = std::chrono::steady_clock::now();
  Args args(2000, "-N1");
  args.push_back("job.sh");
  EXPECT_EQ(Error(args), "too many options: 2000 arguments before the script (at most 256)");
  args.clear();
  for (int i = 0; i < 128; ++i) args.insert(args.end(), {"-J", std::to_string(i)});  // 256 tokens
  args.push_back("job.sh");
  Result<SubmitCommand> r = Submit(args);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.name, "127");

  // Any number of script arguments: they never reach Boost.
  args = {"-N", "3", "job.sh"};
  args.insert(args.end(), 500000, "a");
  r = Submit(args);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->script_args.size(), 500000u);
  EXPECT_EQ(r->spec.nodes, 3);

  std::string line = "#SBATCH";
  for (int i = 0; i < 250000; ++i) line += " -N1";
  EXPECT_EQ(Error({"job.sh"}, "#!/bin/sh\n" + line + "\n"),
            "job.sh: line 2: too many words (250000; at most 256 on one line)");

  EXPECT_EQ(Error({"-" + std::string(1 << 20, 'h'), "job.sh"}),
            "option '--help' does not take any arguments");
  EXPECT_EQ(Error({"job.sh"}, "#!/bin/sh\n#SBATCH -" + std::string(1 << 20, 'h') + "\n"),
            "job.sh: line 2: option '--help' does not take any arguments");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(ParseSubmit, OptionSpellings) {
  struct Case {
    Args args;
    Want want;
  };
  const Case cases[] = {
      {{"--part=gpu", "job.sh"}, With([](Want* w) { w->partition = "gpu"; })},  // abbreviation
      {{"--job", "x", "job.sh"}, With([](Want* w) { w->name = "x"; })},
      {{"-J", "--", "job.sh"}, With([](Want* w) { w->name = "--"; })},  // a value, not "--"
      {{"-J", "-x", "job.sh"}, With([](Want* w) { w->name = "-x"; })},
      {{"-N", "2", "--", "job.sh"}, With([](Want* w) { w->nodes = 2; })},
  };
  for (const Case& c : cases) {
    Result<SubmitCommand> r = Submit(c.args);
    ASSERT_TRUE(r.ok()) << c.args.front() << ": " << r.status().ToString();
    ExpectSpec(r->spec, c.want, c.args.front());
    EXPECT_EQ(r->script_path, "job.sh");
  }
  EXPECT_EQ(Error({"-hN", "2", "job.sh"}), "option '--help' does not take any arguments");
  EXPECT_EQ(
      Error({"--g=2", "job.sh"}),
      "option '--g=2' is ambiguous and matches '--gpu-choice', '--gpus', and '--gpus-per-node'");
  EXPECT_EQ(Error({"-J", "-N", "job.sh"}),
            "the required argument for option '--job-name' is missing");
}

TEST(ParseSubmit, HugeExportListIsLinear) {
  std::string list = "ALL";
  for (int i = 0; i < 100000; ++i) list += ",V" + std::to_string(i) + "=" + std::to_string(i);
  const auto start = std::chrono::steady_clock::now();
  Result<SubmitCommand> r = Submit({"--export=" + list, "job.sh"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.env.size(), 100003u);
  EXPECT_EQ(r->spec.env.back(), (std::pair<std::string, std::string>{"V99999", "99999"}));
  EXPECT_LT(elapsed, std::chrono::seconds(20));
}

TEST(ParseSubmit, RandomArgumentsNeverCrash) {
  std::mt19937 rng(4242);
  const std::vector<std::string> pool = {"-N",
                                         "-n",
                                         "-c",
                                         "--mem",
                                         "-G",
                                         "--gpus-per-node",
                                         "-t",
                                         "-p",
                                         "-o",
                                         "-e",
                                         "-D",
                                         "--export",
                                         "-A",
                                         "--wrap",
                                         "--parsable",
                                         "--json",
                                         "--controller",
                                         "-J",
                                         "--",
                                         "-",
                                         "job.sh",
                                         "2",
                                         "h100:2",
                                         "-1",
                                         "4G",
                                         "1-00:00",
                                         "=",
                                         "--nodes=",
                                         "--mem=1T",
                                         "ALL,X=1",
                                         "",
                                         "'",
                                         "\"",
                                         std::string("\0", 1),
                                         "\xff",
                                         "--no-such",
                                         "-Nx",
                                         "-hN",
                                         "%j"};
  int oks = 0, errors = 0;
  for (int round = 0; round < 3000; ++round) {
    Args args;
    const int n = static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) args.push_back(pool[rng() % pool.size()]);
    std::string script = "#!/bin/sh\n#SBATCH";
    for (int i = 0; i < 3; ++i) script += " " + pool[rng() % pool.size()];
    script += "\n";
    Result<SubmitCommand> r = Submit(args, script);
    if (r.ok()) {
      ++oks;
    } else {
      ++errors;
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_GT(oks, 0);
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace corral

namespace corral::cli {
namespace {

TEST(ParseSubmit, SignalBeforeTheTimeLimit) {
  struct Case {
    std::string value;
    int sig, secs;
    bool batch;
  };
  const Case good[] = {{"USR1", 10, 60, false},   {"SIGUSR2@30", 12, 30, false},
                       {"B:TERM@5", 15, 5, true}, {"10@0", 10, 0, false},
                       {"B:INT", 2, 60, true},    {"KILL@65535", 9, 65535, false}};
  for (const Case& k : good) {
    Result<SubmitCommand> r = Submit({"--signal=" + k.value, "job.sh"});
    ASSERT_TRUE(r.ok()) << k.value << ": " << r.status().message();
    EXPECT_EQ(r->spec.signal, k.sig) << k.value;
    EXPECT_EQ(r->spec.signal_secs, k.secs) << k.value;
    EXPECT_EQ(r->spec.signal_batch_only, k.batch) << k.value;
  }
  for (const char* bad : {"", "FOO", "B:", "USR1@", "USR1@-3", "USR1@70000", "99", "0", "USR1@1@2",
                          "B:B:USR1", "usr1x", "@5"}) {
    std::string e = Error({std::string("--signal=") + bad, "job.sh"});
    EXPECT_NE(e.find("--signal"), std::string::npos) << bad << ": " << e;
  }
}

}  // namespace
}  // namespace corral::cli
