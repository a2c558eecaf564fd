// What nodes report for the accounting file beyond a job's end: its usage samples (/usage)
// and the ends of its steps (/steps). Methods of Controller::Impl, on the writer thread; the
// rows go to the sink with the batch's job rows (ApplyBatch). A node reports only for jobs
// placed on it, and what it says is bounded before it is written.
#include <algorithm>

#include "common/log.h"
#include "common/time.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {

int64_t NonNegative(int64_t v) {
  return std::max<int64_t>(v, 0);
}

}  // namespace

void Controller::Impl::RecordUsage(const std::string& node, const v1::JobUsage& u) {
  UsageSample s;
  s.job_id = u.job_id();
  s.node = node;
  s.restarts = u.restarts();
  s.sampled_ms = u.sampled_ms() > 0 ? u.sampled_ms() : WallNowMs();
  s.cpu_ms = NonNegative(u.cpu_ms());
  s.rss_bytes = NonNegative(u.rss_bytes());
  s.gpu_util_pct = std::clamp(u.gpu_util_pct(), 0, 100);
  s.gpu_mem_bytes = NonNegative(u.gpu_mem_bytes());
  s.gpu_power_mw = NonNegative(u.gpu_power_mw());
  s.energy_mj = NonNegative(u.energy_mj());
  acct_rows.usage.push_back(std::move(s));
}

void Controller::Impl::ApplyStepExit(const std::string& node, const v1::StepExit& x) {
  // A step that never started has nothing to account; a node that names no job (an older
  // corral-node) neither.
  if (!x.error().empty() || x.job_id() <= 0) return;
  Job scratch;
  const Job* j = Lookup(x.job_id(), &scratch);
  if (j == nullptr || j->restarts != x.restarts()) return;
  bool mine = std::any_of(j->alloc.begin(), j->alloc.end(),
                          [&](const NodeAllocation& a) { return a.node == node; });
  if (!mine) {
    spdlog::warn("node {}: reported step {} of job {}, which does not run there", node, x.step_id(),
                 x.job_id());
    return;
  }
  // A step's exit reaches corrald again when its client follows it anew: one row each. (Once
  // the job's own row is written its set is gone: a step that ends after that is not checked.)
  if (!j->accounted && !steps_recorded[x.job_id()].insert(x.step_id()).second) return;
  StepRecord r;
  r.job_id = x.job_id();
  r.step_id = x.step_id();
  r.node = node;
  r.name = x.command();
  r.exit_code = x.exit_code();
  r.state = x.exit_code() == 0 ? "COMPLETED" : x.exit_code() > 128 ? "CANCELLED" : "FAILED";
  r.restarts = x.restarts();
  r.end_ms = x.end_ms() > 0 ? x.end_ms() : WallNowMs();
  r.start_ms = x.start_ms() > 0 ? std::min(x.start_ms(), r.end_ms) : r.end_ms;
  r.cpu_used_ms = NonNegative(x.cpu_ms());
  r.max_rss_bytes = NonNegative(x.max_rss_bytes());
  acct_rows.steps.push_back(std::move(r));
}

}  // namespace corral::ctld
