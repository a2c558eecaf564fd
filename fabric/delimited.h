// Protobuf's delimited form: messages back to back, each preceded by its length as a varint.
// corrald keeps each job's JobBrief and JobInfo encoded this way, so a listing of 10,000 jobs
// is one string on both sides (ListJobsReply.brief_stream and .info_stream).
#pragma once

#include <google/protobuf/message_lite.h>

#include <string>
#include <string_view>

namespace corral {

// `msg` serialized with its length in front: one entry of a delimited stream.
std::string EncodeDelimited(const google::protobuf::MessageLite& msg);

// Reads delimited streams without copying them.
class DelimitedReader {
 public:
  explicit DelimitedReader(std::string_view stream) : rest_(stream) {}
  // Parses the next entry into `out`. Returns false at the end, and also on a truncated or
  // malformed entry, after which error() is true.
  bool Next(google::protobuf::MessageLite* out);
  bool error() const { return error_; }

 private:
  std::string_view rest_;
  bool error_ = false;
};

}  // namespace corral
