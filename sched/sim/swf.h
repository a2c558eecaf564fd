// The Standard Workload Format (Parallel Workloads Archive) reader, for `corral sim`. Plain or
// gzip (told by its magic bytes). Header comments (";") give MaxProcs and MaxNodes; every other
// non-blank line is one job of 18 whitespace-separated integer fields, -1 meaning unknown.
// Pure apart from reading the one file; nothing throws; every problem is a Status or a counted,
// skipped line whose message reads "line N: <field>: <reason>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace corral::sim {

struct SwfJob {
  int64_t id = 0;           // field 1
  int64_t submit_s = 0;     // field 2, >= 0
  int64_t wait_s = -1;      // field 3: the trace's own wait; -1 unknown
  int64_t run_s = 0;        // field 4, >= 0
  int32_t procs = 0;        // field 5 (allocated), else field 8 (requested); >= 1
  int64_t req_time_s = -1;  // field 9: the user's estimate; -1 unknown
  int32_t status = -1;      // field 11
  int64_t user = -1;        // field 12
  int64_t line = 0;         // where it was read
};

struct SwfTrace {
  int64_t max_procs = -1, max_nodes = -1;  // from the header; -1 unknown
  std::vector<SwfJob> jobs;                // in file order
  int64_t lines = 0;                       // lines read
  int64_t skipped = 0;                     // malformed lines skipped (not with strict)
  int64_t unreplayable = 0;         // well-formed jobs without a run time or processor count (-1)
  std::vector<std::string> errors;  // the first SwfOptions::max_errors messages, "line N: ..."
};

struct SwfOptions {
  bool strict = false;     // the first malformed line is an error, not a skipped line
  size_t max_errors = 20;  // messages kept in SwfTrace::errors
};

// Parses SWF text. Errors: strict and a malformed line (its message); text that is not SWF at
// all (a NUL byte or other binary content: "not a text file"); no job at all ("no jobs").
Result<SwfTrace> ParseSwf(std::string_view text, const SwfOptions& opts);

// The text of the file at `path`, gunzipped when it starts with the gzip magic bytes (the other
// trace readers share it). Errors name the path: unreadable (a directory too), larger than 4 GiB
// (as read or once inflated), a corrupt gzip stream.
Result<std::string> ReadTraceText(const std::string& path);

// Reads and parses `path`, gunzipping it when it starts with the gzip magic bytes. Errors name
// the path: unreadable, a corrupt gzip stream, larger than 4 GiB once inflated, then ParseSwf's.
Result<SwfTrace> ReadSwf(const std::string& path, const SwfOptions& opts);

}  // namespace corral::sim
