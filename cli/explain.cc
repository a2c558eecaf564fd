// corral queue --explain JOBID: why a job waits, factor by factor (like sprio -l -j and
// squeue --start together).
#include <cstdio>
#include <iostream>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "common/time.h"
#include "fabric/record_json.h"

namespace corral::cli {

namespace {

std::string Factor(int64_t ppm) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(ppm / 1000000),
                static_cast<long long>(ppm % 1000000));
  return buf;
}

}  // namespace

int QueueExplain(int64_t job_id, const std::string& controller, bool json) {
  Client c(controller);
  v1::ExplainRequest req;
  req.set_job_id(job_id);
  v1::ExplainReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::Explain, req, &rep); !s.ok()) {
    return Fail("queue", s);
  }
  const v1::JobInfo& j = rep.job();
  if (json) {
    nlohmann::json factors = nlohmann::json::array();
    for (const auto& f : rep.factors()) {
      factors.push_back({{"name", f.name()},
                         {"factor", static_cast<double>(f.factor_ppm()) / 1e6},
                         {"factor_ppm", f.factor_ppm()},
                         {"weight", f.weight()},
                         {"contribution", f.contribution()}});
    }
    nlohmann::json out = {{"job", JobJson(j)},          {"priority", rep.priority()},
                          {"nice", rep.nice()},         {"factors", factors},
                          {"position", rep.position()}, {"eligible", rep.eligible()},
                          {"backfill", rep.backfill()}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "Job " << j.id() << " (" << j.spec().name() << "): " << j.state();
  if (!j.reason().empty()) std::cout << ", reason " << j.reason();
  std::cout << "\n";
  if (j.state() == "PENDING") {
    if (rep.position() > 0) {
      std::cout << "Place: " << rep.position() << " of " << rep.eligible()
                << " jobs eligible to start (" << rep.backfill() << " backfill)\n";
    } else {
      std::cout << "Place: not eligible to start yet (held, or waiting on dependencies)\n";
    }
    if (j.expected_start_ms() > 0) {
      TimeMs in = j.expected_start_ms() - WallNowMs();
      std::cout << "Expected start: " << FormatTime(j.expected_start_ms()) << " (in "
                << FormatDuration(in > 0 ? in : 0) << "), held for it by backfill\n";
    } else {
      std::cout << "Expected start: none planned (" << rep.backfill()
                << " backfill plans a start only for "
                << (rep.backfill() == "easy" ? "the first job that waits for resources"
                                             : "jobs that can start within the window")
                << ")\n";
    }
  }
  std::cout << "Priority: " << rep.priority() << " = the contributions below - nice " << rep.nice()
            << "\n";
  Table t({"FACTOR", "VALUE", "WEIGHT", "CONTRIBUTION"});
  for (const auto& f : rep.factors()) {
    t.Add(f.name(), Factor(f.factor_ppm()), std::to_string(f.weight()),
          std::to_string(f.contribution()));
  }
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace corral::cli
