// What `corral submit` and `corral run` know about the process that runs them.
#pragma once

#include "cli/job_options.h"

namespace corral::cli {

// The current directory, user name and environment.
SubmitContext CurrentContext();

}  // namespace corral::cli
