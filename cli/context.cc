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
    if (eq != std::string::npos) ctx.environ.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return ctx;
}

}  // namespace corral::cli
