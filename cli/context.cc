#include "cli/context.h"

#include <pwd.h>
#include <unistd.h>

extern char** environ;

namespace corral::cli {

SubmitContext CurrentContext() {
  SubmitContext ctx;
  char buf[4096];
  if (getcwd(buf, sizeof buf)) ctx.cwd = buf;
  if (passwd* pw = getpwuid(getuid())) ctx.user = pw->pw_name;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    // Credentials stay with the caller: a job gets a token of its own (CORRAL_JOB_TOKEN), and
    // an exported one would be stored with the job and seen by whoever reads its environment.
    const std::string name = kv.substr(0, eq);
    if (name == "CORRAL_TOKEN" || name == "CORRAL_JOB_TOKEN" || name == "CORRAL_JOIN_TOKEN") {
      continue;
    }
    ctx.environ.emplace_back(name, kv.substr(eq + 1));
  }
  return ctx;
}

}  // namespace corral::cli
