#include "sched/ctld/job_view.h"

#include "fabric/delimited.h"

namespace corral::ctld {

namespace {

// What `corral queue` shows of a job.
v1::JobBrief BriefOf(const v1::JobInfo& j) {
  v1::JobBrief b;
  const auto& s = j.spec();
  b.set_id(j.id());
  b.set_name(s.name());
  b.set_user(s.user());
  b.set_partition(s.partition());
  b.set_state(j.state());
  b.set_reason(j.reason());
  b.set_submit_ms(j.submit_ms());
  b.set_start_ms(j.start_ms());
  b.set_end_ms(j.end_ms());
  int nodes = s.nodes();
  for (const auto& h : s.het()) nodes += h.nodes();
  b.set_nodes(nodes);
  int gpus = s.gpus_per_node() > 0 ? s.gpus_per_node() * s.nodes() : s.gpus();
  if (gpus > 0)
    b.set_gpus((s.gpu_model().empty() ? "" : s.gpu_model() + ":") + std::to_string(gpus));
  b.set_nodelist(j.nodelist());
  b.set_array_job_id(s.array_job_id());
  b.set_array_task_id(s.array_task_id());
  b.set_exit_code(j.exit_code());
  b.set_array_tasks(j.array_tasks());
  return b;
}

bool ParseOne(std::string_view entry, google::protobuf::MessageLite* out) {
  DelimitedReader r(entry);
  return r.Next(out);
}

}  // namespace

JobView::JobView(const v1::JobInfo& info) : exit_code_(info.exit_code()) {
  if (!ParseJobState(info.state(), &state_)) state_ = JobState::kFailed;
  std::string brief = EncodeDelimited(BriefOf(info));
  std::string full = EncodeDelimited(info);
  encoded_.reserve(brief.size() + full.size());  // exactly: one allocation, kept for long
  encoded_.append(brief).append(full);
  brief_size_ = static_cast<uint32_t>(brief.size());
}

bool JobView::Brief(v1::JobBrief* out) const {
  return ParseOne(brief_entry(), out);
}

bool JobView::Info(v1::JobInfo* out) const {
  return ParseOne(info_entry(), out);
}

}  // namespace corral::ctld
