#include "sched/core/fifo.h"

namespace corral::sched {

PassResult ScheduleFifo(const std::vector<QueuedJob>& queue, std::vector<NodeView>* nodes) {
  PassResult r;
  for (const auto& q : queue) {
    Placement p = PlaceJob(*q.spec, *nodes);
    if (p.kind == Placement::Kind::kPlaced && Reserve(p.alloc, nodes)) {
      r.starts.push_back({q.id, std::move(p.alloc)});
      continue;
    }
    r.blocked = q.id;
    r.blocked_reason = p.reason.empty() ? "Resources" : p.reason;
    break;
  }
  return r;
}

}  // namespace corral::sched
