// Test harness: a real local cluster (corrald + corral-node processes on loopback ports the
// OS picks), started with `corral up` in a fresh directory and stopped with `corral down`.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fabric/credentials.h"

namespace corral::testing {

// Two CPU nodes (8 CPUs each) and one 8-CPU node with 2 H100 on NUMA 0.
extern const char* const kSmallCluster;

struct CmdResult {
  int code = -1;
  std::string out, err;
};

class LocalCluster {
 public:
  // Starts the cluster; fails the calling test (ADD_FAILURE) and returns null on error. The
  // test process gets the cluster's CORRAL_CA and CORRAL_TOKEN (admin) in its environment, so
  // that DialController(Address()) is the cluster's admin.
  static std::unique_ptr<LocalCluster> Start(const std::string& cluster_yaml = kSmallCluster);
  ~LocalCluster();

  // Runs `corral ARGS` (a shell fragment) against this cluster, in dir().
  CmdResult Corral(const std::string& args) const;
  // Runs a shell command with the cluster's env, in dir().
  CmdResult Shell(const std::string& command) const;
  // kill -9 of corrald, as a crash would.
  void KillController();
  // kill -9 of the corral-node of node `name` (its jobs' processes live on, as after a crash).
  void KillNode(const std::string& name);
  // `corral up` again on the same directory.
  bool Up();

  const std::string& dir() const { return dir_; }
  // The last lines of every daemon's log and the queue, for a failure message.
  std::string Diagnose() const;
  std::string ReadFile(const std::string& path) const;
  // corrald's HOST:PORT, from the cluster's env file.
  std::string Address() const;
  // A second corrald of its own with `args`, in `dir` (made; its log is dir/corrald.log), on a
  // loopback port the OS picks. Returns its HOST:PORT, or "" after ADD_FAILURE.
  // StopController(dir) stops it. It has this cluster's CA and admin token (so the env's work
  // with it), and a join token of its own in dir/join.token.
  std::string StartController(const std::string& dir, const std::string& args) const;
  void StopController(const std::string& dir) const;
  // A node identity for `name` (or a fleet of `fleet` named name1..), attached now with the
  // cluster's join token (or `join_token`): what a test's raw NodeLink stream connects with.
  // Empty credentials after ADD_FAILURE.
  Credentials AttachAs(const std::string& name, int fleet = 0, const std::string& address = "",
                       const std::string& join_token = "") const;
  // A channel to corrald (or `address`) with AttachAs(name, fleet, address, join_token).
  std::shared_ptr<grpc::Channel> NodeChannel(const std::string& name, int fleet = 0,
                                             const std::string& address = "",
                                             const std::string& join_token = "") const;
  // A key of the cluster's env file (CORRAL_TOKEN, CORRAL_JOIN_TOKEN, CORRAL_CA...).
  std::string Env(const std::string& key) const;

 private:
  std::string dir_;
};

// The first line of a command's output, e.g. the id printed by `submit --parsable`.
std::string FirstLine(const CmdResult& r);

// `corral submit --parsable ARGS`: the job id, after checking (EXPECT) that the submit succeeded.
int64_t SubmitOk(const LocalCluster& c, const std::string& args);

// The job as `corral queue --json -a -j ID` shows it; null when that fails or lists none.
nlohmann::json QueueJob(const LocalCluster& c, int64_t id);
// Its "state" there, or "?" when there is none.
std::string QueueState(const LocalCluster& c, int64_t id);

// Polls `cond` every 20 ms until it holds or `timeout_ms` passes. Returns whether it held.
bool WaitFor(const std::function<bool()>& cond, int timeout_ms);

std::string BinDir();
std::string SourceDir();

}  // namespace corral::testing
