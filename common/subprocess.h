// Running a helper program and taking what it prints: the mesh runs nebula-cert this way, and
// `corral sim --cluster` asks corral-node for the profiles of the cluster file's nodes, so that
// the simulator reads a topology with the very code a real node runs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"

namespace corral {

// The folder of the running program: corral's own programs (corrald, corral-node, ...) are there.
std::string BinDir();

// Runs argv (argv[0] a path) with stdin from /dev/null and returns its standard output when it
// exits 0. Errors: Unavailable when it cannot start, runs past `timeout_ms` (it is killed) or
// prints more than `max_bytes`; Invalid when it exits non-zero, with the last line it wrote to
// standard error.
// The path of an installed program `name` (in /usr/bin, /usr/sbin or /usr/local/bin), or
// Unavailable saying that Debian's package `package` is missing.
Result<std::string> FindInstalled(const std::string& name, const std::string& package);

Result<std::string> RunCaptured(const std::vector<std::string>& argv, int timeout_ms,
                                size_t max_bytes = 1 << 20);

}  // namespace corral
