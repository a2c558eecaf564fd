// What the `corral admin` objects share: the operation words, comma lists, and times of day.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace corral::cli {

// words = OP [NAME]: OP is list (no name), or add, modify or remove (one name). Prints what is
// wrong, naming `object`, and returns nullopt.
std::optional<std::string> AdminOperation(const std::string& object,
                                          const std::vector<std::string>& words);
// "added", "modified", "removed".
const char* PastTense(const std::string& op);
// Appends the names of a comma-separated list, Slurm host ranges expanded ("n[1-3],gpu*" is
// n1, n2, n3, gpu*). On a malformed range prints it, naming `cmd` and `option`, and returns
// false.
bool SplitList(const std::string& cmd, const std::string& option, const std::string& list,
               google::protobuf::RepeatedPtrField<std::string>* out);
// A time: "now", "now+DURATION" (Slurm durations: minutes, HH:MM:SS, D-HH:MM...), or
// YYYY-MM-DDTHH:MM[:SS] in UTC. Invalid names `option`.
Result<TimeMs> ParseWhen(const std::string& option, const std::string& value, TimeMs now);

}  // namespace corral::cli
