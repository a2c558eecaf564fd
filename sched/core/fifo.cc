#include "sched/core/fifo.h"

namespace corral::sched {

PassResult ScheduleFifo(const std::vector<QueuedJob>& queue, std::vector<NodeView>* nodes) {
  PassResult r;
  bool blocked = false;
  for (const auto& q : queue) {
    if (blocked) {
      r.reasons[q.id] = "Priority";
      continue;
    }
    Placement p = Place(*q.spec, *nodes);
    if (p.kind == Placement::Kind::kPlaced && Reserve(p.alloc, nodes)) {
      r.starts.push_back({q.id, std::move(p.alloc)});
      continue;
    }
    r.reasons[q.id] = p.reason.empty() ? "Resources" : p.reason;
    blocked = true;
  }
  return r;
}

}  // namespace corral::sched
