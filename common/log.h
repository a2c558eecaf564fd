// Logging goes through spdlog; processes call InitLogging once with their name.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace corral {

// Logs to stderr as "[time] [process] [level] message". `level` is "debug", "info", "warn"...
void InitLogging(const std::string& process, const std::string& level = "info");

}  // namespace corral
