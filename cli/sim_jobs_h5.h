// `corral sim --jobs-h5 FILE`: every replayed job as a row of an accounting file's /jobs table,
// written by the accounting module's own writer through corral-acct-import (the statically
// linked `corral` carries no HDF5), so `corral acct`'s reader and h5py read it as they read
// corrald's. A row per policy and job: job_id the trace's, partition the policy, state COMPLETED
// for a job that ran and NOT_RUN (start and end 0) for one that never did.
#pragma once

#include <string>
#include <vector>

#include "cli/sim_report.h"
#include "common/status.h"

namespace corral::cli {

// Refuses a path that exists (an accounting file is never overwritten) or whose folder does not.
Status CheckJobsH5Path(const std::string& path);

// `importer` is the path of corral-acct-import.
Status WriteJobsH5(const std::string& path, const std::vector<SimRun>& runs,
                   const std::string& importer);

}  // namespace corral::cli
