// Conversions between the common model (common/job.h, common/node.h) and the wire messages.
// Pure copies: no validation happens here.
#pragma once

#include "common/job.h"
#include "common/node.h"
#include "fabric/proto/corral.pb.h"

namespace corral {

void ToProto(const JobSpec& in, v1::JobSpec* out);
// With with_env false, env and args stay empty (a caller that already holds them saves copying).
JobSpec FromProto(const v1::JobSpec& in, bool with_env = true);
void ToProto(const NodeProfile& in, v1::NodeProfile* out);
NodeProfile FromProto(const v1::NodeProfile& in);
void ToProto(const NodeAllocation& in, v1::NodeAllocation* out);
NodeAllocation FromProto(const v1::NodeAllocation& in);

}  // namespace corral
