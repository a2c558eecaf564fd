#include "sched/sim/replay.h"

#include <algorithm>
#include <numeric>
#include <queue>
#include <set>
#include <unordered_map>
#include <utility>

namespace corral::sim {

namespace {

constexpr int64_t kMaxNodes = 1000000;
constexpr int64_t kMaxCpusPerNode = 1 << 20;

int64_t WidestJob(const SwfTrace& t) {
  int64_t w = 0;
  for (const SwfJob& j : t.jobs) w = std::max<int64_t>(w, j.procs);
  return w;
}

// The free resources of the machine's nodes, found by name.
class Nodes {
 public:
  explicit Nodes(const Machine& m) {
    views_.reserve(m.nodes);
    for (int32_t i = 0; i < m.nodes; ++i) {
      NodeProfile p;
      p.name = "n" + std::to_string(i + 1);
      p.cpus = m.cpus_per_node;
      p.mem_mib = 1024;
      views_.push_back(sched::NodeView::Idle(p));
    }
    pos_ = sched::IndexNodes(views_);
    free_ = int64_t{m.nodes} * m.cpus_per_node;
  }
  // CPUs free over all nodes.
  int64_t free() const { return free_; }
  const std::vector<sched::NodeView>& views() const { return views_; }
  // Takes `a` from the free CPUs; false (taking nothing) if any node has too few.
  bool Take(const Allocation& a) {
    for (const NodeAllocation& x : a) {
      auto it = pos_.find(x.node);
      if (it == pos_.end() || views_[it->second].free_cpus < x.cpus) return false;
    }
    sched::TakeAt(a, pos_, &views_);
    for (const NodeAllocation& x : a) free_ -= x.cpus;
    return true;
  }
  void Give(const Allocation& a) {
    sched::GiveAt(a, pos_, &views_);
    for (const NodeAllocation& x : a) free_ += x.cpus;
  }

 private:
  std::vector<sched::NodeView> views_;
  sched::NodeIndex pos_;
  int64_t free_ = 0;
};

}  // namespace

Machine MachineOf(const SwfTrace& t) {
  Machine m;
  if (t.max_nodes > 0 && t.max_procs >= t.max_nodes) {
    m.nodes = static_cast<int32_t>(std::min(t.max_nodes, kMaxNodes + 1));
    m.cpus_per_node = static_cast<int32_t>(std::min(t.max_procs / t.max_nodes, kMaxCpusPerNode));
    m.source = "MaxNodes and MaxProcs from the trace's header";
  } else if (t.max_nodes > 0) {
    m.nodes = static_cast<int32_t>(std::min(t.max_nodes, kMaxNodes + 1));
    m.source = "MaxNodes from the trace's header";
  } else if (t.max_procs > 0) {
    m.nodes = static_cast<int32_t>(std::min(t.max_procs, kMaxNodes + 1));
    m.source = "MaxProcs from the trace's header";
  } else {
    m.nodes = static_cast<int32_t>(std::min(WidestJob(t), kMaxNodes + 1));
    m.source = "no MaxNodes or MaxProcs in the header: the widest job's processors";
  }
  return m;
}

Result<ReplayResult> Replay(const SwfTrace& trace, const Machine& m, const ReplayOptions& o) {
  if (m.nodes <= 0 || m.cpus_per_node <= 0) {
    return Status::Invalid("machine: " + std::to_string(m.nodes) + " nodes of " +
                           std::to_string(m.cpus_per_node) + " CPUs: needs at least one of each");
  }
  if (m.nodes > kMaxNodes) {
    return Status::Invalid("machine: " + std::to_string(m.nodes) + " nodes: at most " +
                           std::to_string(kMaxNodes));
  }
  const size_t n = trace.jobs.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return trace.jobs[a].submit_s < trace.jobs[b].submit_s;
  });
  ReplayResult res;
  Summary& sum = res.summary;
  res.jobs.resize(n);
  // Job k (in submit order) is JobId k + 1, so priority ties fall in submit order.
  std::vector<JobSpec> specs(n);
  double trace_wait = 0;
  int64_t trace_waits = 0;
  for (size_t k = 0; k < n; ++k) {
    const SwfJob& j = trace.jobs[order[k]];
    JobOutcome& out = res.jobs[k];
    out.id = j.id;
    out.submit_s = j.submit_s;
    out.procs = j.procs;
    out.limit_s = j.req_time_s > 0 ? j.req_time_s : j.run_s;
    if (j.req_time_s <= 0) ++sum.limit_from_runtime;
    out.limit_s = std::max<int64_t>(out.limit_s, 1);  // a limit of 0 would be none
    out.run_s = std::min(j.run_s, out.limit_s);
    if (j.run_s > out.limit_s) ++sum.cut_at_limit;
    if (j.wait_s >= 0) trace_wait += static_cast<double>(j.wait_s), ++trace_waits;
    JobSpec& s = specs[k];
    s.user = "u" + std::to_string(j.user);
    s.ntasks = j.procs;
    s.cpus_per_task = 1;
    s.nodes = static_cast<int32_t>((int64_t{j.procs} + m.cpus_per_node - 1) / m.cpus_per_node);
    s.time_limit_ms = out.limit_s * 1000;
  }
  sum.trace_mean_wait_s = trace_waits ? trace_wait / static_cast<double>(trace_waits) : -1;

  Nodes nodes(m);
  sched::SchedulerConfig cfg;
  cfg.backfill.mode = o.mode;
  struct Running {
    Allocation alloc;
    TimeMs start, end;
  };
  std::unordered_map<JobId, Running> running;
  std::priority_queue<std::pair<TimeMs, JobId>, std::vector<std::pair<TimeMs, JobId>>,
                      std::greater<>>
      ends;
  std::vector<JobId> pending;  // ascending
  std::map<JobId, sched::Reservation> held;
  std::unordered_map<JobId, std::string> reason;
  auto violation = [&](std::string what) {
    ++sum.violations;
    if (sum.violation_examples.size() < 20) sum.violation_examples.push_back(std::move(what));
  };
  auto submit_ms = [&](size_t k) { return res.jobs[k].submit_s * 1000; };
  size_t next = 0;
  int64_t ended = 0;
  TimeMs now = n ? submit_ms(0) : 0;
  while (n > 0) {
    while (!ends.empty() && ends.top().first <= now) {
      const JobId id = ends.top().second;
      ends.pop();
      auto r = running.find(id);
      nodes.Give(r->second.alloc);
      if (o.check && r->second.end != now) {
        violation("job " + std::to_string(res.jobs[id - 1].id) + " ended at " +
                  std::to_string(now / 1000) + " s, not at start + run time");
      }
      running.erase(r);
      ++ended;
    }
    while (next < n && submit_ms(next) <= now) pending.push_back(static_cast<JobId>(++next));
    // As in corrald: with no CPU free a pass could start nothing, and none runs.
    if (!pending.empty() && nodes.free() > 0) {
      sched::SchedulerState st;
      st.now = now;
      st.nodes = nodes.views();
      st.running.reserve(running.size());
      for (const auto& [id, r] : running) {
        sched::RunningJob x;
        x.id = id;
        x.alloc = r.alloc;
        x.expected_end = r.start + specs[id - 1].time_limit_ms;
        x.spec = &specs[id - 1];
        x.start = r.start;
        st.running.push_back(std::move(x));
      }
      st.pending.reserve(pending.size());
      for (JobId id : pending) {
        sched::WaitingJob w;
        w.id = id;
        w.spec = &specs[id - 1];
        w.priority.eligible_ms = submit_ms(id - 1);
        if (auto h = held.find(id); h != held.end()) w.held = &h->second;
        st.pending.push_back(w);
      }
      sched::Decisions d = sched::Schedule(st, cfg);
      ++sum.passes;
      for (auto& [id, why] : d.reasons) reason[id] = std::move(why);
      std::set<JobId> started;
      for (sched::StartDecision& s : d.starts) {
        JobOutcome& out = res.jobs[s.id - 1];
        if (!started.insert(s.id).second || out.start_s >= 0) {
          violation("job " + std::to_string(out.id) + " started twice");
          continue;
        }
        if (!nodes.Take(s.alloc)) {
          violation("job " + std::to_string(out.id) + " placed beyond the free CPUs at " +
                    std::to_string(now / 1000) + " s");
          if (o.check) continue;
        }
        if (o.check && now < submit_ms(s.id - 1)) {
          violation("job " + std::to_string(out.id) + " started before its submit");
        }
        out.start_s = now / 1000;
        out.end_s = out.start_s + out.run_s;
        const TimeMs end = now + out.run_s * 1000;
        running.emplace(s.id, Running{std::move(s.alloc), now, end});
        ends.emplace(end, s.id);
      }
      if (!started.empty()) {
        std::erase_if(pending, [&](JobId id) { return started.count(id) > 0; });
      }
      held.clear();
      for (sched::Reservation& r : d.reservations) held.emplace(r.id, std::move(r));
      if (o.progress && sum.passes % std::max<int64_t>(o.progress_every, 1) == 0) {
        o.progress(ended, static_cast<int64_t>(n), now / 1000);
      }
    }
    TimeMs t = sched::kForever;
    if (!ends.empty()) t = ends.top().first;
    if (next < n) t = std::min(t, submit_ms(next));
    if (t == sched::kForever) break;  // what still waits never runs
    now = std::max(now, t);
  }
  for (JobId id : pending) {
    auto r = reason.find(id);
    res.jobs[id - 1].never_ran = r == reason.end() ? "never considered" : r->second;
  }
  if (o.progress) o.progress(ended, static_cast<int64_t>(n), now / 1000);
  Summarize(res.jobs, m, &sum);
  return res;
}

}  // namespace corral::sim
