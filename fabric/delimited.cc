#include "fabric/delimited.h"

#include <google/protobuf/io/coded_stream.h>

namespace corral {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

std::string EncodeDelimited(const google::protobuf::MessageLite& msg) {
  size_t n = msg.ByteSizeLong();
  std::string out;
  out.resize(CodedOutputStream::VarintSize32(static_cast<uint32_t>(n)) + n);
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(n), p);
  msg.SerializeWithCachedSizesToArray(p);
  return out;
}

bool DelimitedReader::Next(google::protobuf::MessageLite* out) {
  if (rest_.empty() || error_) return false;
  CodedInputStream in(reinterpret_cast<const uint8_t*>(rest_.data()),
                      static_cast<int>(std::min<size_t>(rest_.size(), INT32_MAX)));
  uint32_t n = 0;
  if (!in.ReadVarint32(&n)) {
    error_ = true;
    return false;
  }
  size_t head = static_cast<size_t>(in.CurrentPosition());
  if (n > rest_.size() - head || !out->ParseFromArray(rest_.data() + head, static_cast<int>(n))) {
    error_ = true;
    return false;
  }
  rest_.remove_prefix(head + n);
  return true;
}

}  // namespace corral
