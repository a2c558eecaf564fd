// corral submit: like sbatch.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/job_options.h"
#include "fabric/convert.h"

namespace corral::cli {

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::Invalid(path + ": cannot read the batch script");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (ss.str().size() > (4 << 20)) return Status::Invalid(path + ": larger than 4 MiB");
  return ss.str();
}

}  // namespace

int Submit(const Args& args) {
  auto cmd = ParseSubmit(args, CurrentContext(), ReadFile);
  if (!cmd.ok()) {
    std::cerr << "corral submit: " << cmd.status().message() << "\n";
    return kExitUsage;
  }
  if (cmd->help) {
    std::cout << SubmitHelp();
    return kExitOk;
  }
  if (!cmd->input.empty()) {
    std::cerr << "corral submit: --input: not supported for batch jobs, whose stdin is "
                 "/dev/null (it is for corral run)\n";
    return kExitUsage;
  }
  cmd->spec.args = cmd->script_args;
  Client c(ResolveController(cmd->controller));
  v1::SubmitRequest req;
  ToProto(cmd->spec, req.add_jobs());
  v1::SubmitReply rep;
  Status s = c.Call(&v1::Controller::Stub::Submit, req, &rep);
  if (!s.ok()) return Fail("submit", s);
  int64_t id = rep.ids(0);
  if (cmd->json) {
    std::cout << "{\"job_id\": " << id << "}\n";
  } else if (cmd->parsable) {
    std::cout << id << "\n";
  } else {
    std::cout << "Submitted batch job " << id << "\n";
  }
  return kExitOk;
}

}  // namespace corral::cli
