// The Microsoft Philly trace reader, in the derived form of the Pollux artifact (philly.csv:
// timestamp,duration,num_gpus,gpu_time,cluster), for `corral sim`. Columns are found by the
// header's names (timestamp, duration and num_gpus; others ignored). Pure apart from reading the
// one file; nothing throws; every problem is a Status or a counted, skipped line whose message
// reads "line N: <field>: <reason>".
//
// A row becomes one job: submitted at its UTC timestamp less the earliest job's (rows are not in
// time order; the earliest submits at 0), running its duration rounded to the second, on
// num_gpus GPUs with one CPU each, on as many nodes as the machine needs. A 0-GPU row is
// well-formed but unreplayable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sched/sim/workload.h"

namespace corral::sim {

struct PhillyOptions {
  bool strict = false;     // the first malformed line is an error, not a skipped line
  size_t max_errors = 20;  // messages kept in Workload::errors
};

// Parses Philly CSV text. Errors: binary content ("not a text file"), a missing column
// ("line 1: header: no \"num_gpus\" column"), strict and a malformed line, no job ("no jobs").
Result<Workload> ParsePhilly(std::string_view csv, const PhillyOptions& opts);

// Reads and parses `path`, plain or gzip; errors name the path.
Result<Workload> ReadPhilly(const std::string& path, const PhillyOptions& opts);

// Whether `text` looks like a Philly CSV: its first line names timestamp, duration and num_gpus
// columns.
bool LooksLikePhilly(std::string_view text);

// Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12, d 1..31), negative
// before it.
int64_t DaysFromCivil(int64_t y, int m, int d);

}  // namespace corral::sim
