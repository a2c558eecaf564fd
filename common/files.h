// Small files that hold secrets or settings: read with a size limit, written whole (a temporary
// file renamed into place, so a reader never sees half of one) with the mode given, never
// through a symbolic link.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace corral {

// The file's bytes; NotFound when it does not exist, Invalid when it is larger than max_bytes.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 1 << 20);
// Replaces `path` with `content`, mode `mode` (e.g. 0600), fsynced.
Status WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode);

}  // namespace corral
