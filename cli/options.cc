#include "cli/options.h"

#include <iostream>

namespace corral::cli {

bool ParseArgs(const std::string& cmd, const std::string& usage,
               const std::vector<std::string>& args, po::options_description& desc,
               const po::positional_options_description* pos, po::variables_map* vm, int* exit) {
  desc.add_options()("help,h", "show this help");
  try {
    auto parser = po::command_line_parser(args).options(desc);
    if (pos) parser.positional(*pos);
    po::store(parser.run(), *vm);
    if (vm->count("help")) {
      std::cout << usage << "\n\n" << desc << "\n";
      *exit = 0;
      return false;
    }
    po::notify(*vm);
  } catch (const std::exception& e) {
    std::cerr << "corral " << cmd << ": " << e.what() << "\nTry 'corral " << cmd << " --help'.\n";
    *exit = 2;
    return false;
  }
  return true;
}

}  // namespace corral::cli
