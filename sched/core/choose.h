// Phase 3 of a pass (schedule.h), choose: the ways each queued job may run, once it is eligible.
// A job with --gpu-choice=fastest|cheapest gets one option per GPU model it may take
// (gpu_choice.h); where nodes state terms, or the job a price cap, each option keeps only the
// nodes whose terms take it (terms.h). Jobs neither touches are left as they are. Pure.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sched/core/backfill.h"
#include "sched/core/gpu_choice.h"

namespace corral::sched {

// What the options point into: it must outlive the Backfill call that reads them.
struct ChoiceStore {
  std::deque<JobSpec> specs;
  std::deque<NodeMask> masks;
  std::map<std::string, std::pair<const NodeMask*, std::string>> by_terms;  // mask, refusal
};

// Sets the options of the jobs of `queue` (in place) over `nodes`, with `speeds[i]` the speeds
// of queue[i]'s job, if any. A job that no option is left to (no model within its price, no
// node whose terms take it) is taken out of the queue, and its reason added to `reasons`:
// "ReqNodeNotAvail (terms): <why>", naming the first refusal.
void Choose(const std::vector<NodeView>& nodes, const GpuCatalog& catalog,
            const std::vector<const GpuSpeeds*>& speeds, std::vector<PendingJob>* queue,
            std::vector<std::pair<JobId, std::string>>* reasons, ChoiceStore* store);

}  // namespace corral::sched
