// CheckFeasible over many nodes, cheaply: it only asks of each node its CPUs, memory and GPU
// models, and counts nodes only up to the job's node count, so nodes alike in those are kept
// once per node the job could use. The answer, message included, is the one CheckFeasible gives
// on every node.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/job.h"
#include "common/node.h"
#include "common/status.h"

namespace corral::sched {

class Feasibility {
 public:
  explicit Feasibility(const std::vector<NodeProfile>& up);
  Status Check(const JobSpec& spec);

 private:
  struct Kind {
    NodeProfile p;
    int32_t count;
  };
  std::vector<Kind> kinds_;
  std::map<int32_t, std::vector<NodeProfile>> lists_;  // by the most nodes a component asks for
};

}  // namespace corral::sched
