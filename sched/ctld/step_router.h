// Routes the output of steps (processes started in a running job with Exec, such as MPI daemons)
// from the node that runs them to the Exec stream that waits for it. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "fabric/proto/corral.pb.h"

namespace corral::ctld {

class StepRouter {
 public:
  // Where a step's events go, in order; `last` is true for its final event. Called with the
  // step's lock held, so it must not call back into the router.
  using Sink = std::function<void(v1::ExecEvent ev, bool last)>;

  // Step ids are unique across restarts of the controller too (they start from the wall clock
  // at construction, shifted left by 20 bits), so that a node's news of a step started by an
  // earlier controller never reaches a step of this one.
  StepRouter();
  // A new step on `node`: its id.
  int64_t Open(const std::string& node, Sink sink);
  // Routes an existing step (one a client follows again) to `sink`. False if it is routed
  // already: one client follows a step.
  bool Attach(int64_t id, const std::string& node, Sink sink);
  // Forgets the step; later events for it are dropped.
  void Close(int64_t id);
  // Delivers an event from `node`; ignored unless that node runs the step, or after its last.
  // Returns whether it reached a sink.
  bool Deliver(const std::string& node, int64_t id, v1::ExecEvent ev, bool last);
  // Ends every step on `node` with an error (the node went away).
  void FailNode(const std::string& node);

 private:
  struct Step {
    std::string node;
    std::mutex mu;
    Sink sink;
    bool done = false;  // the last event was delivered
  };
  std::mutex mu_;
  int64_t next_;
  std::map<int64_t, std::shared_ptr<Step>> steps_;
};

}  // namespace corral::ctld
