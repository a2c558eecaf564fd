// Runs `nebula -config FILE` and keeps it running: restarted when it dies (after 1 s, doubling
// up to 30 s while it keeps dying within a minute), stopped when this object goes. Its output
// is appended to a log file. A nebula left by an earlier run (its pid in PID_FILE) is stopped
// first, so that the new one can take the port.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace corral {

class NebulaProcess {
 public:
  // Fails when nebula is not installed or cannot be started.
  static Result<std::unique_ptr<NebulaProcess>> Start(const std::string& config,
                                                      const std::string& log_path,
                                                      const std::string& pid_file);
  ~NebulaProcess();  // SIGTERM, SIGKILL after 2 s
  pid_t pid() const { return pid_.load(); }
  int restarts() const { return restarts_.load(); }

 private:
  NebulaProcess(std::string program, std::string config, std::string log, std::string pid_file);
  Result<pid_t> Spawn();
  void Loop();

  std::string program_, config_, log_, pid_file_;
  std::atomic<pid_t> pid_{0};
  std::atomic<int> restarts_{0};
  int stop_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace corral
