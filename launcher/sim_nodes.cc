#include "launcher/sim_nodes.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "common/log.h"
#include "common/time.h"
#include "fabric/convert.h"
#include "fabric/pki.h"
#include "fabric/proto/corral.grpc.pb.h"
#include "launcher/gpu_check.h"

namespace corral {

namespace {

class Sim;
struct SimNode;

// One stream of one node. Writes go out one at a time, in order; the rest wait in `out_`.
class Link : public grpc::ClientBidiReactor<v1::NodeMessage, v1::ControllerMessage> {
 public:
  Link(Sim* sim, size_t node) : sim_(sim), node_(node) {}
  void Begin(v1::NodeLink::Stub* stub, v1::NodeMessage reg) {
    stub->async()->Connect(&ctx_, this);
    Send(std::move(reg));
    StartRead(&in_);
    StartCall();
  }
  void Send(v1::NodeMessage m) {
    const v1::NodeMessage* first = nullptr;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closed_) return;
      out_.push_back(std::move(m));
      if (writing_) return;
      writing_ = true;
      first = &out_.front();  // a deque keeps it in place while others are pushed behind it
    }
    StartWrite(first);
  }
  void OnWriteDone(bool ok) override {
    const v1::NodeMessage* next = nullptr;
    {
      std::lock_guard<std::mutex> l(mu_);
      out_.pop_front();
      if (!ok || closed_) {
        writing_ = false;
        out_.clear();
        return;
      }
      if (out_.empty()) {
        writing_ = false;
        return;
      }
      next = &out_.front();
    }
    StartWrite(next);
  }
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& s) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      closed_ = true;
      out_.clear();
    }
    if (!s.ok()) spdlog::debug("simulated node link ended: {}", s.error_message());
    done = true;  // last: the owner may delete this link from now on
  }
  void Cancel() { ctx_.TryCancel(); }
  std::atomic<bool> done{false};

 private:
  Sim* sim_;
  size_t node_;
  grpc::ClientContext ctx_;
  v1::ControllerMessage in_;
  std::mutex mu_;
  std::deque<v1::NodeMessage> out_;
  bool writing_ = false, closed_ = false;
};

struct SimNode {
  NodeProfile profile;
  std::mutex mu;                                     // guards jobs and unacked
  std::map<int64_t, std::pair<int32_t, bool>> jobs;  // id -> restarts, batch host
  std::map<int64_t, v1::JobFinished> unacked;
  std::unique_ptr<Link> link;  // the timer thread's alone
  TimeMs next_heartbeat = 0, retry_at = 0;
  std::atomic<int64_t> heartbeat_ms{1000};
  std::unique_ptr<GpuChecks> checks;  // the verifier thread's alone
};

class Sim {
 public:
  explicit Sim(const SimOptions& o) : opts_(o) {
    const int shards = (o.count + 49) / 50;  // streams per connection: at most 50
    for (int s = 0; s < shards; ++s) {
      channels_.push_back(Dial(s));
      stubs_.push_back(v1::NodeLink::NewStub(channels_.back()));
    }
    for (int i = 0; i < o.count; ++i) {
      auto n = std::make_unique<SimNode>();
      n->profile = o.profile;
      n->profile.name = o.prefix + std::to_string(i + 1);
      nodes_.push_back(std::move(n));
    }
  }

  void Run(const std::atomic<bool>& stop) {
    std::thread verifier([&] { VerifyLoop(stop); });
    while (!stop) {
      const TimeMs now = MonotonicNowMs();
      for (size_t i = 0; i < nodes_.size(); ++i) Tend(i, now);
      EndDue(now);
      FlushSends();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& n : nodes_) {
      if (n->link) n->link->Cancel();
    }
    for (auto& n : nodes_) {
      while (n->link && !n->link->done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    verify_cv_.notify_all();
    verifier.join();
  }

  void Handle(size_t i, const v1::ControllerMessage& m);

 private:
  void Send(size_t i, v1::NodeMessage m) {
    // Only the timer thread replaces links, and never while a callback of the old one runs.
    if (Link* l = nodes_[i]->link.get()) l->Send(std::move(m));
  }

  // Dials a node that has no live stream, and heartbeats the others.
  void Tend(size_t i, TimeMs now) {
    SimNode& n = *nodes_[i];
    if (n.link && n.link->done) {
      n.link.reset();
      n.retry_at = now + 500;
    }
    if (!n.link) {
      if (now < n.retry_at) return;
      v1::NodeMessage reg;
      auto* r = reg.mutable_register_();
      ToProto(n.profile, r->mutable_profile());
      {
        std::lock_guard<std::mutex> l(n.mu);
        for (const auto& [id, run] : n.jobs) {
          auto* x = r->add_running();
          x->set_job_id(id);
          x->set_restarts(run.first);
        }
        for (const auto& [id, f] : n.unacked) *r->add_finished() = f;
      }
      n.link = std::make_unique<Link>(this, i);
      const size_t shard = i % stubs_.size();
      // gRPC 1.51's TLS channels do not reconnect once their server went away and came back:
      // a failed one is replaced (the old one lives on for the streams still on it).
      if (channels_[shard]->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
        old_channels_.push_back(channels_[shard]);
        // Streams on the oldest ended long ago (their channel had failed).
        if (old_channels_.size() > 4 * stubs_.size()) old_channels_.erase(old_channels_.begin());
        channels_[shard] = Dial(static_cast<int>(shard + ++redials_ * stubs_.size()));
        stubs_[shard] = v1::NodeLink::NewStub(channels_[shard]);
      }
      n.link->Begin(stubs_[shard].get(), std::move(reg));
      n.next_heartbeat = now + n.heartbeat_ms;
      return;
    }
    if (now >= n.next_heartbeat) {
      n.next_heartbeat = now + n.heartbeat_ms;
      v1::NodeMessage hb;
      hb.mutable_heartbeat()->set_now_ms(WallNowMs());
      n.link->Send(std::move(hb));
    }
  }

  void Schedule(TimeMs at, size_t node, int64_t job, int32_t restarts, std::string state) {
    std::lock_guard<std::mutex> l(ends_mu_);
    ends_.emplace(at, std::make_tuple(node, job, restarts, std::move(state)));
  }

  void EndDue(TimeMs now) {
    std::vector<std::tuple<size_t, int64_t, int32_t, std::string>> due;
    {
      std::lock_guard<std::mutex> l(ends_mu_);
      while (!ends_.empty() && ends_.begin()->first <= now) {
        due.push_back(std::move(ends_.begin()->second));
        ends_.erase(ends_.begin());
      }
    }
    for (auto& [node, job, restarts, state] : due) Finish(node, job, restarts, state);
  }

  // Reports the end of `job`'s run `restarts`, unless it ended (or was replaced) meanwhile.
  void Finish(size_t i, int64_t job, int32_t restarts, const std::string& state) {
    SimNode& n = *nodes_[i];
    v1::NodeMessage m;
    {
      std::lock_guard<std::mutex> l(n.mu);
      auto it = n.jobs.find(job);
      if (it == n.jobs.end() || it->second.first != restarts) return;
      n.jobs.erase(it);
      v1::JobFinished* f = m.mutable_finished();
      f->set_job_id(job);
      f->set_restarts(restarts);
      f->set_state(state);
      f->set_exit_code(state == "COMPLETED" ? 0 : 128 + 15);  // the others end by SIGTERM
      f->set_end_ms(WallNowMs());
      if (state == "TIMEOUT") f->set_reason("time limit reached");
      n.unacked[job] = *f;
    }
    Send(i, std::move(m));
  }

  void VerifyLoop(const std::atomic<bool>& stop) {
    for (;;) {
      std::pair<size_t, v1::ControllerMessage> work;
      {
        std::unique_lock<std::mutex> l(verify_mu_);
        verify_cv_.wait_for(l, std::chrono::milliseconds(100),
                            [&] { return stop || !verify_.empty(); });
        if (stop) return;
        if (verify_.empty()) continue;
        work = std::move(verify_.front());
        verify_.pop_front();
      }
      SimNode& n = *nodes_[work.first];
      const v1::ControllerMessage& m = work.second;
      v1::NodeMessage out;
      if (m.has_verify_open()) {
        if (!n.checks) continue;
        *out.mutable_verify_opening() = n.checks->Open(m.verify_open());
        n.checks.reset();
      } else {
        const v1::GemmChallenge& c = m.has_verify() ? m.verify() : m.registered().verify();
        n.checks = std::make_unique<GpuChecks>(GpuChecks::Run(c, n.profile));
        *out.mutable_verify() = n.checks->report();
      }
      // Sent from here: the timer thread may replace the link meanwhile, so go through it.
      QueueSend(work.first, std::move(out));
    }
  }

  void QueueSend(size_t i, v1::NodeMessage m) {
    // Links are replaced by the timer thread only: hand the message to it.
    std::lock_guard<std::mutex> l(ends_mu_);
    pending_sends_.emplace_back(i, std::move(m));
  }

  void FlushSends() {
    std::vector<std::pair<size_t, v1::NodeMessage>> sends;
    {
      std::lock_guard<std::mutex> l(ends_mu_);
      sends.swap(pending_sends_);
    }
    for (auto& [i, m] : sends) Send(i, std::move(m));
  }
  // For the verifier thread (a GPU check takes a while).
  void Verify(size_t i, const v1::ControllerMessage& m) {
    std::lock_guard<std::mutex> l(verify_mu_);
    verify_.emplace_back(i, m);
    verify_cv_.notify_all();
  }

  SimOptions opts_;
  // A connection of its own per shard: `tag` keeps gRPC from sharing one.
  std::shared_ptr<grpc::Channel> Dial(int tag) const {
    grpc::ChannelArguments args;
    args.SetInt("corral.sim_shard", tag);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetSslTargetNameOverride(pki::kServerName);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = opts_.creds.ca_pem;
    ssl.pem_private_key = opts_.creds.key_pem;
    ssl.pem_cert_chain = opts_.creds.cert_pem;
    return grpc::CreateCustomChannel(opts_.controller, grpc::SslCredentials(ssl), args);
  }

  std::vector<std::shared_ptr<grpc::Channel>> channels_, old_channels_;
  size_t redials_ = 0;
  std::vector<std::unique_ptr<v1::NodeLink::Stub>> stubs_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::mutex ends_mu_;
  std::multimap<TimeMs, std::tuple<size_t, int64_t, int32_t, std::string>> ends_;
  std::vector<std::pair<size_t, v1::NodeMessage>> pending_sends_;
  std::mutex verify_mu_;
  std::condition_variable verify_cv_;
  std::deque<std::pair<size_t, v1::ControllerMessage>> verify_;
};

void Link::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ends: OnDone follows
  sim_->Handle(node_, in_);
  StartRead(&in_);
}

int64_t SimRuntimeMs(const v1::LaunchJob& l, int64_t fallback) {
  auto parse = [&](const std::string& v) -> int64_t {
    try {
      const double s = std::stod(v);
      if (s >= 0 && s < 1e9) return static_cast<int64_t>(s * 1000);
    } catch (...) {
    }
    return -1;
  };
  for (const auto& e : l.env()) {
    if (e.key() == "CORRAL_SIM_RUNTIME" && parse(e.value()) >= 0) return parse(e.value());
  }
  for (const auto& e : l.job().spec().env()) {
    if (e.key() == "CORRAL_SIM_RUNTIME" && parse(e.value()) >= 0) return parse(e.value());
  }
  return fallback;
}

}  // namespace

void Sim::Handle(size_t i, const v1::ControllerMessage& m) {
  SimNode& n = *nodes_[i];
  Link* link = n.link.get();
  if (m.has_registered()) {
    n.heartbeat_ms = std::max<int64_t>(m.registered().heartbeat_ms(), 10);
    if (m.registered().has_verify()) Verify(i, m);
    std::lock_guard<std::mutex> l(n.mu);
    for (int64_t id : m.registered().orphaned()) n.jobs.erase(id);
  } else if (m.has_launch()) {
    const v1::JobInfo& job = m.launch().job();
    const bool batch = m.launch().batch_host();
    {
      std::lock_guard<std::mutex> l(n.mu);
      auto it = n.jobs.find(job.id());
      if (it != n.jobs.end() && it->second.first == job.restarts()) return;  // sent again
      n.jobs[job.id()] = {job.restarts(), batch};
    }
    if (!batch || job.spec().interactive()) return;  // its end comes from elsewhere
    const TimeMs now = MonotonicNowMs();
    const int64_t run = SimRuntimeMs(m.launch(), opts_.runtime_ms);
    const int64_t limit = job.spec().time_limit_ms();
    if (limit > 0 && limit < run) {
      Schedule(now + limit, i, job.id(), job.restarts(), "TIMEOUT");
    } else {
      Schedule(now + run, i, job.id(), job.restarts(), "COMPLETED");
    }
  } else if (m.has_cancel()) {
    int32_t restarts = 0;
    bool batch = false;
    {
      std::lock_guard<std::mutex> l(n.mu);
      auto it = n.jobs.find(m.cancel().job_id());
      if (it == n.jobs.end()) return;
      std::tie(restarts, batch) = it->second;
      if (!batch) {
        n.jobs.erase(it);
        return;
      }
    }
    Schedule(0, i, m.cancel().job_id(), restarts,
             m.cancel().state().empty() ? "CANCELLED" : m.cancel().state());
  } else if (m.has_start_step()) {
    v1::NodeMessage out;
    out.mutable_step_exit()->set_step_id(m.start_step().step_id());
    out.mutable_step_exit()->set_exit_code(0);
    if (link) link->Send(std::move(out));
  } else if (m.has_ack_finished()) {
    std::lock_guard<std::mutex> l(n.mu);
    n.unacked.erase(m.ack_finished().job_id());
  } else if (m.has_verify_open() || m.has_verify()) {
    Verify(i, m);
  }
}

Status RunSimulatedNodes(const SimOptions& o, const std::atomic<bool>& stop) {
  if (o.count < 1 || o.count > 100000) return Status::Invalid("--simulate: must be 1..100000");
  if (o.prefix.empty()) return Status::Invalid("--simulate: the nodes need a name prefix (--name)");
  if (o.runtime_ms < 0) return Status::Invalid("--simulate-runtime: must not be negative");
  Sim sim(o);
  spdlog::info("simulating {} nodes {}1..{}{} against {}", o.count, o.prefix, o.prefix, o.count,
               o.controller);
  sim.Run(stop);
  return Status::Ok();
}

}  // namespace corral
