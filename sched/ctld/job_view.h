// A job as the controller's readers see it (the published view): its JobBrief and JobInfo kept
// encoded, in the delimited form that listings send (fabric/delimited.h), plus the two fields
// that Wait tests on every wake-up. Encoded, a pending job's view takes about 300 bytes; a
// parsed JobInfo, with a heap string per field, took about 1 KB.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/job.h"
#include "fabric/proto/corral.pb.h"

namespace corral::ctld {

class JobView {
 public:
  JobView() = default;
  explicit JobView(const v1::JobInfo& info);

  // The job's entry in a ListJobsReply.brief_stream, and in an .info_stream.
  std::string_view brief_entry() const { return std::string_view(encoded_).substr(0, brief_size_); }
  std::string_view info_entry() const { return std::string_view(encoded_).substr(brief_size_); }
  // Parse the entries back; false only if the view was never set.
  bool Brief(v1::JobBrief* out) const;
  bool Info(v1::JobInfo* out) const;

  JobState state() const { return state_; }
  int32_t exit_code() const { return exit_code_; }

 private:
  std::string encoded_;  // the brief entry, then the info entry
  uint32_t brief_size_ = 0;
  JobState state_ = JobState::kPending;
  int32_t exit_code_ = 0;
};

}  // namespace corral::ctld
