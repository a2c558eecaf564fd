#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace corral {

void InitLogging(const std::string& process, const std::string& level) {
  auto logger = spdlog::stderr_logger_mt(process);
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%l] %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace corral
