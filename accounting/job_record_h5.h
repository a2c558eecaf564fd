// Internal to accounting/: the on-disk layout of the /jobs table and the operations on it that
// the writer and the reader share. /jobs is a 1-D, unlimited, chunked dataset of a compound
// type with one member per JobRecord field, named as the field; strings are fixed-size,
// NUL-padded UTF-8 (a string that fills its column has no terminator).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <vector>

#include "accounting/hdf5_call.h"
#include "accounting/job_record.h"
#include "common/status.h"

namespace corral::acct_internal {

inline constexpr char kJobsPath[] = "/jobs";

// The in-memory compound type of one row. Invalid on failure (reason on the HDF5 stack).
Hid MakeJobRowType();

// Creates /jobs in `file`. Invalid on failure (reason on the HDF5 stack).
Hid CreateJobsDataset(hid_t file, hid_t row_type);

// Invalid with the reason unless `dset` is 1-D and its type has every column of `row_type`.
Status CheckJobsDataset(hid_t dset, hid_t row_type);

// Number of rows as the handle currently sees it, or -1 on failure.
int64_t CountJobs(hid_t dset);

// Reads every row the handle currently sees.
Result<std::vector<JobRecord>> ReadJobs(hid_t dset, hid_t row_type);

// Grows /jobs from `old_rows` rows by rows.size() and writes `rows` at the end. Does not flush.
// On failure /jobs may have been grown; the caller shrinks it back to `old_rows`.
Status AppendJobs(hid_t dset, hid_t row_type, int64_t old_rows, const std::vector<JobRecord>& rows);

}  // namespace corral::acct_internal
