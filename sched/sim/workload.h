// What every trace reader gives the replay (SWF, Alibaba GPU 2023, Philly): the jobs, each with
// what it asked for and how long it ran, and the machine the trace came from when it says so.
// Plain data; the readers fill it, replay.h consumes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/job.h"

namespace corral::sim {

struct SimJob {
  int64_t id = 0;           // the trace's job number (or its row number when it has none)
  int64_t submit_s = 0;     // >= 0, relative to the trace's first submit or its own epoch
  int64_t wait_s = -1;      // the trace's own recorded wait; -1 unknown
  int64_t run_s = 0;        // >= 0
  int64_t req_time_s = -1;  // the user's time limit; -1 unknown (the run time becomes the limit)
  int32_t procs = 1;        // CPUs over the whole job, >= 1 (SWF processors; pods: CPU milli
                            // rounded up)
  int32_t nodes = 0;        // nodes asked for; 0: as many as `procs` needs on the machine
  int32_t gpus = 0;         // whole GPUs over the job
  // A share of one GPU in thousandths (Alibaba `gpu_milli`, with gpus == 1); 1000 = whole.
  int32_t gpu_milli = 1000;
  std::string gpu_model;  // lower case; "" any; alternatives joined by '|' ("v100m16|v100m32")
  bool gpu_models_in_order = false;        // the alternatives by preference (JobSpec's)
  GpuChoice gpu_choice = GpuChoice::kAny;  // JobSpec's: weigh the models by speed or cost
  int64_t mem_mib = 0;                     // per node; 0 none
  int64_t user = -1;
  int64_t line = 0;  // where it was read
};

// A group of identical nodes of the machine.
struct NodeGroup {
  int32_t count = 0;
  int32_t cpus = 1;
  int64_t mem_mib = 0;  // 0: not modelled (jobs' memory is ignored)
  int32_t gpus = 0;
  std::string gpu_model;  // lower case
};

struct Workload {
  std::string format;        // "swf", "alibaba", "philly"
  std::vector<SimJob> jobs;  // in file order
  // The trace's own machine, when it describes one (Alibaba's node list); empty otherwise.
  std::vector<NodeGroup> machine;
  int64_t max_procs = -1, max_nodes = -1;  // SWF header; -1 unknown
  int64_t lines = 0, skipped = 0;          // lines read; malformed lines skipped
  int64_t unreplayable = 0;                // well-formed jobs without a run time or size
  int64_t fractional_gpus = 0;             // jobs asking for a share of one GPU
  std::vector<std::string> errors;         // the first messages, "line N: field: reason"
};

}  // namespace corral::sim
