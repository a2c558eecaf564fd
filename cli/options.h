// Shared Boost.Program_options plumbing for the subcommands that are not `submit`.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace corral::cli {

namespace po = boost::program_options;

// Parses `args` against `desc` (plus positional `pos`). On --help prints `usage` and `desc`
// and returns 0 via *exit; on an error prints it and sets *exit to 2. Returns false to stop.
bool ParseArgs(const std::string& cmd, const std::string& usage,
               const std::vector<std::string>& args, po::options_description& desc,
               const po::positional_options_description* pos, po::variables_map* vm, int* exit);

}  // namespace corral::cli
