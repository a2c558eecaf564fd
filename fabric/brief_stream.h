// The queue listing's wire form: JobBriefs back to back, each preceded by its length as a
// varint (protobuf's delimited encoding). corrald keeps each job's entry encoded and the whole
// unfiltered listing cached, so a listing of 10,000 jobs is one string on both sides.
#pragma once

#include <string>
#include <string_view>

#include "fabric/proto/corral.pb.h"

namespace corral {

// `brief` serialized with its length in front: one entry of a brief stream.
std::string EncodeDelimitedBrief(const v1::JobBrief& brief);

// Reads brief streams without copying them.
class BriefReader {
 public:
  explicit BriefReader(std::string_view stream) : rest_(stream) {}
  // Parses the next entry into `out`. Returns false at the end, and also on a truncated or
  // malformed entry, after which error() is true.
  bool Next(v1::JobBrief* out);
  bool error() const { return error_; }

 private:
  std::string_view rest_;
  bool error_ = false;
};

}  // namespace corral
