// corral cancel, release and wait: acting on jobs by id.
#include <iostream>
#include <thread>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "common/time.h"
#include "fabric/record_json.h"

namespace corral::cli {

bool ParseJobIds(const std::string& cmd, const std::vector<std::string>& in,
                 std::vector<int64_t>* out);

namespace {

// `corral cancel` and `corral release`: job ids in, one RPC, errors per id out.
template <typename Req, typename Rep, typename Fn>
int ActOnIds(const std::string& cmd, const std::string& usage, const Args& args, Fn rpc) {
  po::options_description d("Options");
  std::string controller;
  std::vector<std::string> ids;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "ids", po::value(&ids)->multitoken(), "job ids");
  po::positional_options_description pos;
  pos.add("ids", -1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(cmd, usage, args, d, &pos, &vm, &exit)) return exit;
  std::vector<int64_t> idv;
  if (!ParseJobIds(cmd, ids, &idv)) return kExitUsage;
  if (idv.empty()) {
    std::cerr << "corral " << cmd << ": give at least one job id\n";
    return kExitUsage;
  }
  Req req;
  for (auto i : idv) req.add_ids(i);
  Client c(ResolveController(controller));
  Rep rep;
  if (Status s = c.Call(rpc, req, &rep); !s.ok()) return Fail(cmd, s);
  for (const auto& e : rep.errors()) std::cerr << "corral " << cmd << ": " << e << "\n";
  return rep.errors_size() > 0 ? kExitRejected : kExitOk;
}

}  // namespace

int Cancel(const Args& args) {
  return ActOnIds<v1::CancelRequest, v1::CancelReply>(
      "cancel",
      "Usage: corral cancel JOBID...\n\nCancels jobs (an array's id cancels all its tasks), "
      "like scancel.",
      args, &v1::Controller::Stub::Cancel);
}

int Release(const Args& args) {
  return ActOnIds<v1::ReleaseRequest, v1::ReleaseReply>(
      "release",
      "Usage: corral release JOBID...\n\nReleases jobs submitted with --hold (an array's id "
      "releases all its tasks), like scontrol release.",
      args, &v1::Controller::Stub::Release);
}

int Requeue(const Args& args) {
  return ActOnIds<v1::RequeueRequest, v1::RequeueReply>(
      "requeue",
      "Usage: corral requeue JOBID...\n\nPuts running batch jobs back in the queue (an array's "
      "id requeues its running tasks), like scontrol requeue: their processes are stopped and "
      "they run again from the start.",
      args, &v1::Controller::Stub::Requeue);
}

int Wait(const Args& args) {
  po::options_description d("Options");
  std::string controller;
  std::vector<std::string> ids;
  int64_t timeout_s = 0;
  bool json = false, quiet = false;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "timeout", po::value(&timeout_s), "give up after this many seconds (exit 124)")(
      "json", po::bool_switch(&json), "print the jobs' final state as JSON")(
      "quiet,q", po::bool_switch(&quiet), "print nothing")("ids", po::value(&ids)->multitoken(),
                                                           "job ids");
  po::positional_options_description pos;
  pos.add("ids", -1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("wait",
                 "Usage: corral wait [--timeout S] JOBID...\n\n"
                 "Blocks until the jobs end. Exits with the job's exit code (the first non-zero "
                 "one for several jobs); 1 if a job was cancelled, timed out or lost its node "
                 "with exit code 0; 124 on --timeout.",
                 args, d, &pos, &vm, &exit)) {
    return exit;
  }
  std::vector<int64_t> idv;
  if (!ParseJobIds("wait", ids, &idv)) return kExitUsage;
  if (idv.empty()) {
    std::cerr << "corral wait: give at least one job id\n";
    return kExitUsage;
  }
  if (timeout_s < 0) {
    std::cerr << "corral wait: --timeout must not be negative\n";
    return kExitUsage;
  }
  Client c(ResolveController(controller));
  TimeMs deadline = timeout_s > 0 ? MonotonicNowMs() + timeout_s * 1000 : 0;
  v1::WaitReply rep;
  for (;;) {
    v1::WaitRequest req;
    for (auto i : idv) req.add_ids(i);
    int64_t slice = 20000;
    if (deadline > 0) slice = std::max<int64_t>(1, std::min(slice, deadline - MonotonicNowMs()));
    req.set_timeout_ms(slice);
    Status s = c.Call(&v1::Controller::Stub::Wait, req, &rep, slice + 10000);
    if (s.code() == Status::Code::kUnavailable && (deadline == 0 || MonotonicNowMs() < deadline)) {
      // The controller may be restarting: keep waiting for it.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (!s.ok()) return Fail("wait", s);
    if (rep.all_done()) break;
    if (deadline > 0 && MonotonicNowMs() >= deadline) {
      if (!quiet) std::cerr << "corral wait: timed out\n";
      return 124;
    }
  }
  int code = 0;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& j : rep.jobs()) {
    arr.push_back(JobJson(j));
    if (!quiet && !json) {
      std::cout << "job " << j.id() << ": " << j.state() << " (exit " << j.exit_code() << ")\n";
    }
    int jc = j.exit_code();
    if (jc == 0 && j.state() != "COMPLETED") jc = 1;
    if (code == 0) code = jc;
  }
  if (json) std::cout << nlohmann::json{{"jobs", arr}}.dump(2) << "\n";
  return code;
}

}  // namespace corral::cli
