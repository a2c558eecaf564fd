#include "sched/ctld/job_array.h"

namespace corral::ctld {

JobArray::JobArray(Job templ, const std::vector<int32_t>& indices)
    : JobArray(std::move(templ), IndexList(indices)) {}

JobArray::JobArray(Job templ, IndexList indices)
    : templ_(std::move(templ)),
      indices_(std::make_shared<const IndexList>(std::move(indices))),
      own_(indices_->size(), false),
      rest_(indices_->size()) {}

JobId JobArray::LowestRest() const {
  for (size_t k = lowest_; k < own_.size(); ++k) {
    if (!own_[k]) return first() + static_cast<JobId>(k);
  }
  return 0;
}

Job JobArray::MakeTask(JobId id) const {
  Job j = templ_;
  j.id = id;
  j.spec.array_job_id = first();
  j.spec.array_task_id = IndexOf(id);
  return j;
}

void JobArray::SetOwn(JobId id) {
  size_t k = static_cast<size_t>(id - first());
  if (own_[k]) return;
  own_[k] = true;
  --rest_;
  while (lowest_ < own_.size() && own_[lowest_]) ++lowest_;
}

std::string JobArray::RestRanges(size_t max_chars) const {
  const IndexList& idx = *indices_;
  std::string out;
  size_t k = lowest_;
  const size_t n = own_.size();
  while (k < n) {
    if (own_[k]) {
      ++k;
      continue;
    }
    // A run of tasks without their own Job whose indices are consecutive.
    size_t e = k;
    while (e + 1 < n && !own_[e + 1] && idx[e + 1] == idx[e] + 1) ++e;
    if (out.size() > max_chars) {
      out += ",...";
      break;
    }
    if (!out.empty()) out += ',';
    out += std::to_string(idx[k]);
    if (e > k) out += '-' + std::to_string(idx[e]);
    k = e + 1;
  }
  if (templ_.spec.array_throttle > 0) out += '%' + std::to_string(templ_.spec.array_throttle);
  return out;
}

}  // namespace corral::ctld
