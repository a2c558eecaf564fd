// A job array kept compactly (issue 20: a 100,000-task array must not cost 100,000 job records
// before its tasks start). Task k of the array has id first + k and index indices[k]. A task
// gets a Job of its own (it "materialises") only when it starts or a command names it alone;
// until then it is one bit here, and what it would be is the template. The tasks without a Job
// of their own ("the rest") share one state: PENDING (held, waiting on dependencies or
// eligible, as the template says), or CANCELLED when the rest was cancelled as a whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sched/ctld/index_list.h"
#include "sched/ctld/job_record.h"

namespace corral::ctld {

class JobArray {
 public:
  JobArray() = default;
  // `templ`: the array's spec (array_job_id = first, array_task_id = -1), submit time, payload
  // and reason; `indices`: ascending, unique. Every task starts without a Job of its own.
  JobArray(Job templ, const std::vector<int32_t>& indices);
  JobArray(Job templ, IndexList indices);

  JobId first() const { return templ_.id; }
  JobId last() const { return templ_.id + static_cast<JobId>(indices_->size()) - 1; }
  size_t size() const { return indices_->size(); }
  bool Contains(JobId id) const { return id >= first() && id <= last(); }
  int32_t IndexOf(JobId id) const { return (*indices_)[static_cast<size_t>(id - first())]; }
  // Never changed once made: the published view shares them.
  const std::shared_ptr<const IndexList>& indices() const { return indices_; }

  // The template, and the state, reason and end shared by the rest.
  const Job& templ() const { return templ_; }
  Job& templ() { return templ_; }
  JobState rest_state() const { return templ_.state; }

  // Whether task `id` (in range) has a Job of its own; the tasks that have not.
  bool Own(JobId id) const { return own_[static_cast<size_t>(id - first())]; }
  size_t rest() const { return rest_; }
  // The rest is active: some task has no Job of its own and they are PENDING.
  bool RestActive() const { return rest_ > 0 && templ_.state == JobState::kPending; }
  // The lowest id without a Job of its own (0 when none).
  JobId LowestRest() const;
  // Calls f(id) for each task without a Job of its own, in id order.
  template <typename F>
  void ForEachRest(F f) const {
    for (size_t k = lowest_; k < own_.size(); ++k) {
      if (!own_[k]) f(first() + static_cast<JobId>(k));
    }
  }

  // Task `id` as a Job of its own, from the template: PENDING (or the rest's state), its index.
  Job MakeTask(JobId id) const;
  // Marks task `id` as having a Job of its own now (MakeTask's, kept by the caller).
  void SetOwn(JobId id);

  // The indices of the tasks without a Job of their own as Slurm prints a pending array's
  // ("1-5,7,9-12"), then "%N" with a throttle; at most about `max_chars` long (ending "...").
  std::string RestRanges(size_t max_chars = 1000) const;

 private:
  Job templ_;
  std::shared_ptr<const IndexList> indices_;
  std::vector<bool> own_;
  size_t rest_ = 0;
  size_t lowest_ = 0;  // tasks below this one all have a Job of their own
};

}  // namespace corral::ctld
