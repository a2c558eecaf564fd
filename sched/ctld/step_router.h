// Routes what a node sends about a stream it serves (the output of a step started with Exec,
// the frames of a tunnel) to the client call that waits for it. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/time.h"
#include "fabric/proto/corral.pb.h"

namespace corral::ctld {

template <typename Event>
class Router {
 public:
  // Where a stream's events go, in order; `last` is true for its final event. Called with the
  // stream's lock held, so it must not call back into the router.
  using Sink = std::function<void(Event ev, bool last)>;

  // Ids are unique across restarts of the controller too (they start from the wall clock at
  // construction, shifted left by 20 bits), so that a node's news of a stream opened by an
  // earlier controller never reaches one of this one.
  Router() : next_(WallNowMs() << 20) {}
  // A new stream on `node`: its id.
  int64_t Open(const std::string& node, Sink sink) {
    auto s = std::make_shared<Route>(node, std::move(sink));
    std::lock_guard<std::mutex> l(mu_);
    int64_t id = next_++;
    routes_[id] = std::move(s);
    return id;
  }
  // Routes an existing stream (a step a client follows again) to `sink`. False if it is routed
  // already: one client follows a stream.
  bool Attach(int64_t id, const std::string& node, Sink sink) {
    auto s = std::make_shared<Route>(node, std::move(sink));
    std::lock_guard<std::mutex> l(mu_);
    return routes_.emplace(id, std::move(s)).second;
  }
  // Forgets the stream; later events for it are dropped.
  void Close(int64_t id) {
    std::lock_guard<std::mutex> l(mu_);
    routes_.erase(id);
  }
  // Delivers an event from `node`; ignored unless that node serves the stream, or after its
  // last. Returns whether it reached a sink.
  bool Deliver(const std::string& node, int64_t id, Event ev, bool last) {
    std::shared_ptr<Route> s;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = routes_.find(id);
      if (it == routes_.end() || it->second->node != node) return false;
      s = it->second;
    }
    // Under the stream's lock, so that events reach the sink in the order they were delivered.
    std::lock_guard<std::mutex> l(s->mu);
    if (s->done) return false;
    s->done = last;
    s->sink(std::move(ev), last);
    return true;
  }
  // Ends every stream on `node` with `last` (the node went away).
  void FailNode(const std::string& node, const Event& last) {
    std::vector<int64_t> hit;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& [id, s] : routes_)
        if (s->node == node) hit.push_back(id);
    }
    for (int64_t id : hit) Deliver(node, id, last, true);
  }

 private:
  struct Route {
    Route(std::string n, Sink s) : node(std::move(n)), sink(std::move(s)) {}
    std::string node;
    std::mutex mu;
    Sink sink;
    bool done = false;  // the last event was delivered
  };
  std::mutex mu_;
  int64_t next_;
  std::map<int64_t, std::shared_ptr<Route>> routes_;
};

// Steps: processes started in a running job with Exec, such as MPI daemons.
using StepRouter = Router<v1::ExecEvent>;
// Tunnels: `corral attach` and `corral forward` (tunnel_stream.h).
using TunnelRouter = Router<v1::TunnelFrame>;

}  // namespace corral::ctld
