// submit_api: submits many trivial jobs to corrald through the gRPC API (Controller.Submit),
// as few calls as asked, and prints how long the calls took. Part of bench/vs-slurm.
//
//   submit_api --controller HOST:PORT --count N [--per-call M] [--hold] [--env] [--workdir DIR]
//              [--output PATTERN]
//   submit_api --count-rows DB      how many jobs corrald's SQLite state holds (after a kill -9)
//
// The requests are built before the clock starts; the clock covers the calls only. corrald
// replies with the ids once the jobs are committed to its SQLite store.
// Prints one line: "submitted=N calls=C seconds=S per_s=R first_id=A last_id=B".
#include <pwd.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "fabric/channel.h"
#include "fabric/proto/corral.grpc.pb.h"

namespace {

int Usage(const char* why) {
  std::cerr
      << "submit_api: " << why << "\n"
      << "usage: submit_api --controller HOST:PORT --count N [--per-call M] [--hold] [--env]\n"
         "                  [--workdir DIR] [--output PATTERN]\n"
         "       submit_api --count-rows STATE_DB\n";
  return 2;
}

int CountRows(const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::cerr << "submit_api: " << db_path << ": " << sqlite3_errmsg(db) << "\n";
    sqlite3_close(db);
    return 1;
  }
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM jobs", -1, &st, nullptr);
  if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
    std::cerr << "submit_api: " << db_path << ": " << sqlite3_errmsg(db) << "\n";
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 1;
  }
  std::cout << "rows=" << sqlite3_column_int64(st, 0) << "\n";
  sqlite3_finalize(st);
  sqlite3_close(db);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string controller, workdir, output = "/dev/null", count_rows;
  long count = 0, per_call = 0;
  bool hold = false, env = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--hold") {
      hold = true;
    } else if (a == "--env") {
      env = true;
    } else if (a == "--controller" && (v = next())) {
      controller = v;
    } else if (a == "--count" && (v = next())) {
      count = std::strtol(v, nullptr, 10);
    } else if (a == "--per-call" && (v = next())) {
      per_call = std::strtol(v, nullptr, 10);
    } else if (a == "--workdir" && (v = next())) {
      workdir = v;
    } else if (a == "--output" && (v = next())) {
      output = v;
    } else if (a == "--count-rows" && (v = next())) {
      count_rows = v;
    } else {
      return Usage(("unknown or incomplete option " + a).c_str());
    }
  }
  if (!count_rows.empty()) return CountRows(count_rows);
  if (controller.empty()) return Usage("--controller is required");
  if (count <= 0) return Usage("--count must be positive");
  if (per_call <= 0 || per_call > count) per_call = count;
  if (workdir.empty()) {
    char buf[4096];
    workdir = getcwd(buf, sizeof buf) ? buf : "/tmp";
  }
  std::string user = "root";
  if (passwd* pw = getpwuid(getuid())) user = pw->pw_name;

  // The same job `corral submit --wrap true` makes; with --env, with this process's environment
  // copied into it as the CLI copies its own (and as libslurm's slurm_submit sends).
  corral::v1::JobSpec spec;
  spec.set_name("api");
  spec.set_user(user);
  spec.set_nodes(1);
  spec.set_ntasks(1);
  spec.set_cpus_per_task(1);
  spec.set_script("#!/bin/sh\ntrue\n");
  spec.set_workdir(workdir);
  spec.set_submit_dir(workdir);
  spec.set_output(output);
  spec.set_hold(hold);
  for (char** e = environ; env && *e; ++e) {
    const char* eq = strchr(*e, '=');
    if (!eq) continue;
    auto* kv = spec.add_env();
    kv->set_key(std::string(*e, static_cast<size_t>(eq - *e)));
    kv->set_value(eq + 1);
  }
  std::vector<corral::v1::SubmitRequest> requests;
  for (long left = count; left > 0; left -= per_call) {
    requests.emplace_back();
    long n = std::min(left, per_call);
    requests.back().mutable_jobs()->Reserve(static_cast<int>(n));
    for (long k = 0; k < n; ++k) *requests.back().add_jobs() = spec;
  }

  auto stub = corral::v1::Controller::NewStub(corral::DialController(controller));
  int64_t first = 0, last = 0, got = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& req : requests) {
    grpc::ClientContext ctx;
    ctx.set_deadline(corral::DeadlineIn(600000));
    corral::v1::SubmitReply rep;
    grpc::Status s = stub->Submit(&ctx, req, &rep);
    if (!s.ok()) {
      std::cerr << "submit_api: Submit failed after " << got << " jobs: " << s.error_message()
                << "\n";
      return 1;
    }
    if (rep.ids_size() != req.jobs_size()) {
      std::cerr << "submit_api: asked for " << req.jobs_size() << " jobs, got " << rep.ids_size()
                << " ids\n";
      return 1;
    }
    if (!first) first = rep.ids(0);
    last = rep.ids(rep.ids_size() - 1);
    got += rep.ids_size();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "submitted=" << got << " calls=" << requests.size() << " seconds=" << secs
            << " per_s=" << static_cast<int64_t>(got / secs) << " first_id=" << first
            << " last_id=" << last << "\n";
  return 0;
}
