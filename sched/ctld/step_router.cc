#include "sched/ctld/step_router.h"

#include <utility>
#include <vector>

#include "common/time.h"

namespace corral::ctld {

StepRouter::StepRouter() : next_(WallNowMs() << 20) {}

int64_t StepRouter::Open(const std::string& node, Sink sink) {
  auto s = std::make_shared<Step>();
  s->node = node;
  s->sink = std::move(sink);
  std::lock_guard<std::mutex> l(mu_);
  int64_t id = next_++;
  steps_[id] = std::move(s);
  return id;
}

bool StepRouter::Attach(int64_t id, const std::string& node, Sink sink) {
  auto s = std::make_shared<Step>();
  s->node = node;
  s->sink = std::move(sink);
  std::lock_guard<std::mutex> l(mu_);
  return steps_.emplace(id, std::move(s)).second;
}

void StepRouter::Close(int64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  steps_.erase(id);
}

bool StepRouter::Deliver(const std::string& node, int64_t id, v1::ExecEvent ev, bool last) {
  std::shared_ptr<Step> s;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = steps_.find(id);
    if (it == steps_.end() || it->second->node != node) return false;
    s = it->second;
  }
  // Under the step's lock, so that events reach the sink in the order they were delivered.
  std::lock_guard<std::mutex> l(s->mu);
  if (s->done) return false;
  s->done = last;
  s->sink(std::move(ev), last);
  return true;
}

void StepRouter::FailNode(const std::string& node) {
  std::vector<int64_t> hit;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [id, s] : steps_)
      if (s->node == node) hit.push_back(id);
  }
  for (int64_t id : hit) {
    v1::ExecEvent ev;
    ev.set_error("node " + node + " disconnected");
    Deliver(node, id, ev, true);
  }
}

}  // namespace corral::ctld
