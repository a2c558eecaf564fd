#include "sched/core/fifo.h"

namespace corral::sched {

PassResult ScheduleFifo(const std::vector<QueuedJob>& queue, std::vector<NodeView>* nodes) {
  PassResult r;
  std::vector<NodeProfile> up;  // the up nodes' profiles, gathered at the first job not placed
  bool have_up = false;
  for (const auto& q : queue) {
    Placement p = PlaceJob(*q.spec, *nodes);
    if (p.kind == Placement::Kind::kPlaced && Reserve(p.alloc, nodes)) {
      r.starts.push_back({q.id, std::move(p.alloc)});
      continue;
    }
    if (!have_up) {
      for (const NodeView& n : *nodes)
        if (n.up) up.push_back(n.profile);
      have_up = true;
    }
    if (Status st = CheckFeasible(*q.spec, up); !st.ok()) {
      r.unavailable.emplace_back(
          q.id, "ReqNodeNotAvail (nodes down, being checked or failed): " + st.message());
      continue;
    }
    r.blocked = q.id;
    r.blocked_reason = p.reason.empty() ? "Resources" : p.reason;
    break;
  }
  return r;
}

}  // namespace corral::sched
