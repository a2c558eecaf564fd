#include "sched/ctld/step_router.h"

#include <vector>

namespace corral::ctld {

std::pair<int64_t, std::shared_ptr<StepRouter::Step>> StepRouter::Open(const std::string& node) {
  auto s = std::make_shared<Step>();
  s->node = node;
  std::lock_guard<std::mutex> l(mu_);
  int64_t id = next_++;
  steps_[id] = s;
  return {id, s};
}

void StepRouter::Close(int64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  steps_.erase(id);
}

void StepRouter::Deliver(const std::string& node, int64_t id, v1::ExecEvent ev, bool last) {
  std::shared_ptr<Step> s;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = steps_.find(id);
    if (it == steps_.end() || it->second->node != node) return;
    s = it->second;
  }
  std::lock_guard<std::mutex> l(s->mu);
  if (s->done) return;
  s->events.push_back(std::move(ev));
  s->done = last;
  s->cv.notify_all();
}

void StepRouter::FailNode(const std::string& node) {
  std::vector<std::pair<int64_t, std::shared_ptr<Step>>> hit;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [id, s] : steps_)
      if (s->node == node) hit.emplace_back(id, s);
  }
  for (auto& [id, s] : hit) {
    v1::ExecEvent ev;
    ev.set_error("node " + node + " disconnected");
    Deliver(node, id, ev, true);
  }
}

}  // namespace corral::ctld
