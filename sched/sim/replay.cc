#include "sched/sim/replay.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>
#include <utility>

#include "sched/core/fairshare.h"
#include "sched/core/gpu_share.h"
#include "sched/core/profile_cache.h"

namespace corral::sim {

namespace {

constexpr int64_t kMaxNodes = 1000000;

// The machine's nodes as the scheduler sees them, kept in the scheduler's own state and changed
// in place as jobs start and end. Counts what is free, for the "nothing free" test and the
// samples.
class Nodes {
 public:
  Nodes(const Machine& m, std::vector<sched::NodeView>* views) : views_(views) {
    views_->clear();
    views_->reserve(static_cast<size_t>(m.Nodes()));
    profiles_ = m.NodeProfiles();
    for (const NodeProfile& p : profiles_) views_->push_back(sched::NodeView::Idle(p));
    pos_ = sched::IndexNodes(*views_);
    free_cpus_ = total_cpus_ = m.Cpus();
    free_gpus_ = total_gpus_ = m.Gpus() * sched::kWholeGpu;
  }
  const std::vector<NodeProfile>& profiles() const { return profiles_; }
  // Whether some GPU (of a machine with them) and some CPU are free.
  bool AnyFree() const {
    return total_gpus_ > 0 ? free_gpus_ > 0 && free_cpus_ > 0 : free_cpus_ > 0;
  }
  // Whether `s` could fit in what is free over all nodes (necessary, not sufficient).
  bool MightFit(const JobSpec& s) const {
    const int64_t milli = s.gpu_milli > 0 ? s.gpu_milli : s.TotalGpus() * sched::kWholeGpu;
    return s.TotalCpus() <= free_cpus_ && milli <= free_gpus_;
  }
  double Busy() const {
    if (total_gpus_ > 0) return 1.0 - static_cast<double>(free_gpus_) / total_gpus_;
    return total_cpus_ > 0 ? 1.0 - static_cast<double>(free_cpus_) / total_cpus_ : 0;
  }
  // Takes `a` from what is free; false (taking nothing) if any node lacks a part of it.
  bool Take(const Allocation& a) {
    for (const NodeAllocation& x : a) {
      auto it = pos_.find(x.node);
      if (it == pos_.end()) return false;
      const sched::NodeView& v = (*views_)[it->second];
      if (v.free_cpus < x.cpus) return false;
      for (int32_t g : x.gpu_indices) {
        if (g < 0 || static_cast<size_t>(g) >= v.gpu_free.size() ||
            sched::GpuUsedMilli(v, static_cast<size_t>(g)) + MilliOf(x) > sched::kWholeGpu) {
          return false;
        }
      }
    }
    sched::TakeAt(a, pos_, views_);
    for (const NodeAllocation& x : a) {
      free_cpus_ -= x.cpus;
      free_gpus_ -= static_cast<int64_t>(x.gpu_indices.size()) * MilliOf(x);
    }
    return true;
  }
  void Give(const Allocation& a) {
    sched::GiveAt(a, pos_, views_);
    for (const NodeAllocation& x : a) {
      free_cpus_ += x.cpus;
      free_gpus_ += static_cast<int64_t>(x.gpu_indices.size()) * MilliOf(x);
    }
  }

 private:
  std::vector<sched::NodeView>* views_;
  std::vector<NodeProfile> profiles_;
  sched::NodeIndex pos_;
  // GPUs in thousandths.
  int64_t free_cpus_ = 0, total_cpus_ = 0, free_gpus_ = 0, total_gpus_ = 0;
  static int32_t MilliOf(const NodeAllocation& x) {
    return x.gpu_milli > 0 ? x.gpu_milli : sched::kWholeGpu;
  }
};

// What `j` asks of the scheduler on `m`: its CPUs as one-CPU tasks spread over as many nodes
// as it names, else as few as its CPUs (or GPUs) need on the machine's largest node.
JobSpec SpecOf(const SimJob& j, const Machine& m, bool memory, bool share) {
  JobSpec s;
  s.user = "u" + std::to_string(j.user);
  const int64_t procs = std::max<int64_t>(j.procs, 1);
  int64_t nodes = j.nodes;
  if (nodes <= 0 && j.gpus > 0) {
    const int64_t per = std::max(m.MaxGpusPerNode(), 1);
    nodes = (j.gpus + per - 1) / per;
  }
  if (nodes <= 0) {
    const int64_t per = std::max(m.MaxCpusPerNode(), 1);
    nodes = (procs + per - 1) / per;
  }
  s.nodes = static_cast<int32_t>(std::clamp<int64_t>(nodes, 1, kMaxNodes));
  s.ntasks = static_cast<int32_t>(std::max<int64_t>(procs, s.nodes));
  s.cpus_per_task = 1;
  s.gpus = std::max(j.gpus, 0);
  if (share && s.gpus == 1 && s.nodes == 1 && j.gpu_milli > 0 && j.gpu_milli < sched::kWholeGpu) {
    s.gpu_milli = j.gpu_milli;
  }
  s.gpu_model = j.gpu_model;
  s.gpu_models_in_order = j.gpu_models_in_order;
  s.gpu_choice = j.gpu_choice;
  s.mem_mib = memory ? std::max<int64_t>(j.mem_mib, 0) : 0;
  return s;
}

// The key of a spec's shape, for asking CheckFeasible once per shape.
std::string ShapeOf(const JobSpec& s) {
  return std::to_string(s.nodes) + "/" + std::to_string(s.CpusPerNode()) + "/" +
         std::to_string(s.GpusPerNode()) + "/" + std::to_string(s.mem_mib) + "/" + s.gpu_model;
}

}  // namespace

Result<ReplayResult> Replay(const Workload& w, const Machine& m, const ReplayOptions& o) {
  if (m.Nodes() <= 0 || m.Cpus() <= 0 || m.MaxCpusPerNode() <= 0) {
    return Status::Invalid("machine: " + m.Describe() + ": needs at least one node and one CPU");
  }
  if (m.Nodes() > kMaxNodes) {
    return Status::Invalid("machine: " + std::to_string(m.Nodes()) + " nodes: at most " +
                           std::to_string(kMaxNodes));
  }
  const size_t n = w.jobs.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return w.jobs[a].submit_s < w.jobs[b].submit_s; });
  bool memory = false;
  for (const NodeGroup& g : m.groups) memory = memory || g.mem_mib > 0;
  ReplayResult res;
  Summary& sum = res.summary;
  res.jobs.resize(n);
  // Job k (in submit order) is JobId k + 1, so priority ties fall in submit order; prefilled
  // jobs follow.
  std::vector<JobSpec> specs(n + o.prefill.size());
  double trace_wait = 0;
  int64_t trace_waits = 0;
  for (size_t k = 0; k < n; ++k) {
    const SimJob& j = w.jobs[order[k]];
    JobOutcome& out = res.jobs[k];
    out.id = j.id;
    out.submit_s = j.submit_s;
    out.procs = std::max(j.procs, 1);
    out.gpus = std::max(j.gpus, 0);
    out.limit_s = j.req_time_s > 0 ? j.req_time_s : j.run_s;
    if (j.req_time_s <= 0) ++sum.limit_from_runtime;
    out.limit_s = std::max<int64_t>(out.limit_s, 1);  // a limit of 0 would be none
    out.run_s = std::min(std::max<int64_t>(j.run_s, 0), out.limit_s);
    if (j.run_s > out.limit_s) ++sum.cut_at_limit;
    if (!o.share_gpus && j.gpus == 1 && j.gpu_milli > 0 && j.gpu_milli < 1000) {
      ++sum.fractional_rounded;
    }
    if (j.wait_s >= 0) trace_wait += static_cast<double>(j.wait_s), ++trace_waits;
    specs[k] = SpecOf(j, m, memory, o.share_gpus);
    out.gpu_milli = specs[k].gpu_milli;
    specs[k].time_limit_ms = out.limit_s * 1000;
  }
  sum.trace_mean_wait_s = trace_waits ? trace_wait / static_cast<double>(trace_waits) : -1;

  sched::SchedulerState st;
  Nodes nodes(m, &st.nodes);
  sched::SchedulerConfig cfg;
  cfg.backfill.mode = o.mode;
  // Fair share: one account holding every user of the trace.
  std::optional<sched::FairShareTree> shares;
  if (o.fairshare) {
    std::set<std::string> users;
    for (const JobSpec& s : specs) users.insert(s.user);
    std::vector<sched::FairShareUser> us;
    for (const std::string& u : users) us.push_back({u, "sim", 1});
    Result<sched::FairShareTree> t = sched::FairShareTree::Build({{"sim", "", 1}}, std::move(us));
    if (!t.ok()) return Status::Invalid("fair share: " + t.status().message());
    shares.emplace(std::move(*t));
    cfg.weights.fairshare = 10000;
  }
  TimeMs decayed_at = 0;
  sched::ProfileCache cache;
  if (o.reuse_profile) st.profile_cache = &cache;
  struct Running {
    Allocation alloc;
    TimeMs end = 0;
    size_t pos = 0;  // in st.running
  };
  std::unordered_map<JobId, Running> running;
  std::priority_queue<std::pair<TimeMs, JobId>, std::vector<std::pair<TimeMs, JobId>>,
                      std::greater<>>
      ends;
  std::map<JobId, sched::Reservation> held;
  std::unordered_map<JobId, std::string> reason;
  std::unordered_map<std::string, std::string> infeasible;  // shape -> why ("" feasible)
  auto violation = [&](std::string what) {
    ++sum.violations;
    if (sum.violation_examples.size() < 20) sum.violation_examples.push_back(std::move(what));
  };
  auto submit_ms = [&](size_t k) { return res.jobs[k].submit_s * 1000; };
  auto start = [&](JobId id, Allocation alloc, TimeMs now, TimeMs end, TimeMs expected_end) {
    sched::RunningJob x;
    x.id = id;
    x.alloc = alloc;
    x.expected_end = expected_end;
    x.spec = &specs[id - 1];
    x.start = now;
    cache.Started(id, alloc, expected_end);
    running.emplace(id, Running{std::move(alloc), end, st.running.size()});
    st.running.push_back(std::move(x));
    ends.emplace(end, id);
  };
  auto finish = [&](JobId id) {
    auto r = running.find(id);
    nodes.Give(r->second.alloc);
    cache.Ended(id);
    const size_t pos = r->second.pos;
    if (shares) {
      const sched::RunningJob& x = st.running[pos];
      const double seconds = static_cast<double>(r->second.end - x.start) / 1000;
      shares->AddUsage("sim", x.spec->user,
                       seconds * static_cast<double>(x.spec->TotalCpus() + x.spec->TotalGpus()));
    }
    if (pos + 1 != st.running.size()) {
      st.running[pos] = std::move(st.running.back());
      running[st.running[pos].id].pos = pos;
    }
    st.running.pop_back();
    running.erase(r);
  };

  TimeMs now = n ? submit_ms(0) : 0;
  for (size_t i = 0; i < o.prefill.size(); ++i) {
    const PrefillJob& p = o.prefill[i];
    const JobId id = static_cast<JobId>(n + i + 1);
    specs[id - 1] = SpecOf(p.job, m, memory, o.share_gpus);
    sched::Placement pl = sched::PlaceJob(specs[id - 1], st.nodes);
    if (pl.kind != sched::Placement::Kind::kPlaced || !nodes.Take(pl.alloc)) {
      res.prefill_left_out = static_cast<int64_t>(o.prefill.size() - i);
      break;
    }
    specs[id - 1].time_limit_ms = std::max<int64_t>(p.expected_end_s - p.start_s, 1) * 1000;
    start(id, std::move(pl.alloc), p.start_s * 1000, std::max<int64_t>(p.end_s, 0) * 1000,
          p.expected_end_s * 1000);
    ++res.prefill_placed;
  }

  // A pass is needed when a job ended or a job arrived that might fit now. Otherwise, with FCFS
  // or EASY on jobs ordered by age alone (as here), the newcomers rank last, cannot start, and
  // leave everyone else's decision as the last pass made it: the pass is skipped. Conservative
  // backfill plans every job, newcomers included, and always runs.
  const bool skip_futile = o.mode != sched::BackfillMode::kConservative && !o.fairshare;
  size_t next = 0;
  int64_t ended = 0;
  while (n > 0) {
    bool changed = !skip_futile;
    while (!ends.empty() && ends.top().first <= now) {
      changed = true;
      const JobId id = ends.top().second;
      ends.pop();
      if (o.check && running.at(id).end != now && static_cast<size_t>(id) <= n) {
        violation("job " + std::to_string(res.jobs[id - 1].id) + " ended at " +
                  std::to_string(now / 1000) + " s, not at start + run time");
      }
      finish(id);
      if (static_cast<size_t>(id) <= n) ++ended;
    }
    while (next < n && submit_ms(next) <= now) {
      const JobId id = static_cast<JobId>(++next);
      const JobSpec& spec = specs[id - 1];
      auto [it, fresh] = infeasible.try_emplace(ShapeOf(spec));
      if (fresh) {
        Status ok = sched::CheckFeasible(spec, nodes.profiles());
        it->second = ok.ok() ? "" : "infeasible: " + ok.message();
      }
      if (!it->second.empty()) {
        res.jobs[id - 1].never_ran = it->second;
        ++ended;
        continue;
      }
      changed = changed || nodes.MightFit(spec);
      sched::WaitingJob wj;
      wj.id = id;
      wj.spec = &spec;
      wj.priority.eligible_ms = submit_ms(id - 1);
      if (o.speeds_of) wj.speeds = o.speeds_of(static_cast<size_t>(id - 1));
      st.pending.push_back(wj);
    }
    // As in corrald: with nothing free a pass could start nothing, and none runs.
    if (changed && !st.pending.empty() && nodes.AnyFree()) {
      st.now = now;
      if (shares) {
        shares->Decay(now - decayed_at, o.half_life_ms);
        decayed_at = now;
        for (sched::WaitingJob& wj : st.pending) {
          wj.priority.fairshare = shares->Factor("sim", wj.spec->user);
        }
      }
      if (!held.empty()) {
        for (sched::WaitingJob& wj : st.pending) {
          auto h = held.find(wj.id);
          wj.held = h == held.end() ? nullptr : &h->second;
        }
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
          violation("job " + std::to_string(out.id) + " placed beyond the free resources at " +
                    std::to_string(now / 1000) + " s");
          continue;
        }
        if (o.check && now < submit_ms(s.id - 1)) {
          violation("job " + std::to_string(out.id) + " started before its submit");
        }
        out.start_s = now / 1000;
        if (o.run_on) {
          const int64_t run = o.run_on(static_cast<size_t>(s.id - 1), s.alloc, out.run_s);
          out.run_s = std::clamp<int64_t>(run, 1, out.limit_s);
        }
        out.end_s = out.start_s + out.run_s;
        const TimeMs limit_ms = specs[s.id - 1].time_limit_ms;
        start(s.id, std::move(s.alloc), now, now + out.run_s * 1000,
              now + (s.runtime_ms > 0 ? std::min(s.runtime_ms, limit_ms) : limit_ms));
      }
      if (!started.empty()) {
        std::erase_if(st.pending,
                      [&](const sched::WaitingJob& wj) { return started.count(wj.id) > 0; });
      }
      held.clear();
      for (sched::Reservation& r : d.reservations) held.emplace(r.id, std::move(r));
      if (o.progress && sum.passes % std::max<int64_t>(o.progress_every, 1) == 0) {
        o.progress(ended, static_cast<int64_t>(n), now / 1000);
      }
    }
    if (o.sample) o.sample(now / 1000, nodes.Busy(), static_cast<int64_t>(st.pending.size()));
    TimeMs t = sched::kForever;
    if (!ends.empty()) t = ends.top().first;
    if (next < n) t = std::min(t, submit_ms(next));
    if (t == sched::kForever) break;  // what still waits never runs
    now = std::max(now, t);
  }
  for (const sched::WaitingJob& wj : st.pending) {
    auto r = reason.find(wj.id);
    res.jobs[wj.id - 1].never_ran = r == reason.end() ? "never considered" : r->second;
  }
  if (o.progress) o.progress(ended, static_cast<int64_t>(n), now / 1000);
  res.profile_builds = cache.builds();
  res.profile_reuses = cache.reuses();
  Summarize(res.jobs, m, &sum);
  return res;
}

}  // namespace corral::sim
