// Routes the output of steps (processes started in a running job with Exec, such as MPI daemons)
// from the node that runs them back to the Exec call that waits for it. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "fabric/proto/corral.pb.h"

namespace corral::ctld {

class StepRouter {
 public:
  struct Step {
    std::string node;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<v1::ExecEvent> events;  // not yet passed on
    bool done = false;                 // the last event has arrived
  };

  // A new step on `node`: its id, unique in this process, and where its events arrive.
  std::pair<int64_t, std::shared_ptr<Step>> Open(const std::string& node);
  // Forgets the step; later events for it are dropped.
  void Close(int64_t id);
  // Delivers an event from `node`; ignored unless that node runs the step, or once it is done.
  void Deliver(const std::string& node, int64_t id, v1::ExecEvent ev, bool last);
  // Ends every step on `node` with an error (the node went away).
  void FailNode(const std::string& node);

 private:
  std::mutex mu_;
  int64_t next_ = 1;
  std::map<int64_t, std::shared_ptr<Step>> steps_;
};

}  // namespace corral::ctld
