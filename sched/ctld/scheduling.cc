// The scheduler's shell in corrald: the snapshot a pass works on, the decisions applied, and
// `corral queue --explain`. The policies themselves are in sched/core (schedule.h). Methods of
// Controller (and Impl), on the writer thread.
#include <algorithm>

#include "common/log.h"
#include "common/time.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {

// Each GPU model's rate (corrald --gpu-price) and speed: the median TFLOP/s that the usable
// nodes' GPUs of it measured at their check (unknown when none did).
sched::GpuCatalog CatalogOf(const std::map<std::string, NodeEntry>& nodes,
                            const std::map<std::string, int64_t>& prices) {
  sched::GpuCatalog c;
  for (const auto& [model, rate] : prices) c[model].micro_per_hour = rate;
  std::map<std::string, std::vector<double>> measured;
  for (const auto& [name, n] : nodes) {
    if (!n.Usable()) continue;
    for (const v1::GpuCheckResult& g : n.gpu_checks) {
      if (g.index() < 0 || static_cast<size_t>(g.index()) >= n.profile.gpus.size()) continue;
      if (g.tflops() > 0) measured[n.profile.gpus[g.index()].model].push_back(g.tflops());
    }
  }
  for (auto& [model, v] : measured) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    c[model].speed = v[v.size() / 2];
  }
  return c;
}

}  // namespace

void Controller::Impl::SetReason(Job& j, const std::string& reason, Batch& b) {
  if (j.reason == reason) return;
  j.reason = reason;
  b.changed_jobs.insert(j.id);  // shown in the queue; not worth a write
}

void Controller::Impl::SetRestReason(JobArray& a, const std::string& reason, Batch& b) {
  if (a.templ().reason == reason) return;
  a.templ().reason = reason;
  b.changed_arrays.insert(a.first());
}

void Controller::Impl::Schedule(Batch& b, TimeMs now, bool tick) {
  if (deps_dirty && !dep_wait.empty()) {
    deps_dirty = false;
    std::vector<JobId> ready, never;
    for (JobId id : dep_wait) {
      Deps d = EvaluateDeps(jobs[id]);
      if (d == Deps::kReady) ready.push_back(id);
      if (d == Deps::kNever) never.push_back(id);
    }
    for (JobId id : ready) {
      dep_wait.erase(id);
      pending.insert(id);
      jobs[id].reason = "Priority";
      b.changed_jobs.insert(id);
    }
    // As Slurm does (without kill_invalid_depend): the job stays pending, saying why, until it
    // is cancelled.
    for (JobId id : never) SetReason(jobs[id], "DependencyNeverSatisfied", b);
    // Arrays' rests, evaluated once each: their tasks share the template's dependencies.
    std::vector<JobId> rest_ready;
    for (JobId first : rest_dep_wait) {
      JobArray& a = arrays.at(first);
      Deps d = EvaluateDeps(a.templ());
      if (d == Deps::kReady) rest_ready.push_back(first);
      if (d == Deps::kNever) SetRestReason(a, "DependencyNeverSatisfied", b);
    }
    for (JobId first : rest_ready) {
      rest_dep_wait.erase(first);
      rest_pending.insert(first);
      SetRestReason(arrays.at(first), "Priority", b);
    }
  }
  if (pending.empty() && rest_pending.empty()) return;
  // The snapshot the pure scheduler works on (sched/core/schedule.h), then its decisions.
  sched::SchedulerState st;
  st.now = now;
  st.nodes.reserve(nodes.size());
  bool any_up = false;
  for (auto& [name, n] : nodes) {
    st.nodes.push_back(n.free);
    st.nodes.back().up = n.Usable();
    any_up = any_up || n.Usable();
  }
  if (!any_up) return;  // nothing can start; the reasons stay as they are
  // Every job needs a CPU: with none free, a pass started by a command could start nothing,
  // and the plan it would redo is redone at the next tick.
  if (!tick && std::none_of(st.nodes.begin(), st.nodes.end(),
                            [](const sched::NodeView& v) { return v.up && v.free_cpus > 0; })) {
    return;
  }
  for (const auto& [name, n] : nodes) {
    for (JobId id : n.jobs) {
      const Job& j = jobs[id];
      if (j.alloc.empty() || j.alloc[0].node != name) continue;  // once per job
      TimeMs planned = j.estimate_ms > 0 ? j.estimate_ms : j.spec.time_limit_ms;
      sched::RunningJob r;
      r.id = id;
      r.alloc = j.alloc;
      r.expected_end = planned > 0 ? sched::AddMs(j.start_ms, planned) : sched::kForever;
      r.spec = &j.spec;
      r.start = j.start_ms;
      // A victim is expected to be gone by the end of its grace time.
      r.preempting = j.preempted_by != 0;
      if (r.preempting) r.expected_end = std::min(r.expected_end, j.preempt_deadline_ms);
      st.running.push_back(std::move(r));
    }
  }
  st.array_running.insert(array_running.begin(), array_running.end());
  st.qos = qos;
  AccountLimitsFor(&st.accounts);
  st.partitions = partitions;
  st.advance = advance;
  st.gpu_catalog = CatalogOf(nodes, opts.gpu_prices);
  size_t rests = 0;
  for (JobId first : rest_pending) rests += arrays.at(first).rest();
  st.pending.reserve(pending.size() + rests);
  for (JobId first : rest_pending) {
    // An array's tasks without a Job of their own: each one is a waiting job, of one spec.
    const JobArray& a = arrays.at(first);
    sched::WaitingJob w;
    w.spec = &a.templ().spec;
    w.priority = PriorityInputsOf(a.templ());
    w.runtime_ms = runtimes.Estimate(opts.scheduler.runtime_model, a.templ().spec.user,
                                     a.templ().spec.time_limit_ms);
    a.ForEachRest([&](JobId id) {
      w.id = id;
      auto h = reserved.find(id);
      w.held = h != reserved.end() ? &h->second : nullptr;
      st.pending.push_back(w);
    });
  }
  for (JobId id : pending) {
    const Job& j = jobs.find(id)->second;  // one lookup (operator[] would insert if missing)
    sched::WaitingJob w;
    w.id = id;
    w.spec = &j.spec;
    w.priority = PriorityInputsOf(j);
    w.runtime_ms =
        runtimes.Estimate(opts.scheduler.runtime_model, j.spec.user, j.spec.time_limit_ms);
    if (auto h = reserved.find(id); h != reserved.end()) w.held = &h->second;
    st.pending.push_back(w);
  }
  sched::Decisions d = sched::Schedule(st, opts.scheduler);
  // An array's rest shows the reason of its first task in the pass's order.
  std::set<JobId> rest_reasoned;
  for (const auto& [id, why] : d.reasons) {
    if (auto it = jobs.find(id); it != jobs.end()) {
      SetReason(it->second, why, b);
    } else if (JobArray* a = ArrayOf(id); a && rest_reasoned.insert(a->first()).second) {
      SetRestReason(*a, why, b);
    }
  }
  // Planned starts: kept for the next pass (conservative backfill holds them) and shown as
  // expected_start_ms (MakeInfo): a job whose planned start moved changed.
  std::map<JobId, sched::Reservation> planned;
  for (auto& r : d.reservations) planned.emplace(r.id, std::move(r));
  for (const auto& [id, r] : reserved) {
    if (!planned.count(id)) b.changed_jobs.insert(id);
  }
  for (const auto& [id, r] : planned) {
    auto old = reserved.find(id);
    if (old == reserved.end() || old->second.start != r.start) b.changed_jobs.insert(id);
  }
  reserved = std::move(planned);
  for (auto& s : d.starts) {
    Job& j = *Materialise(s.id, b);
    // A job of several partitions runs in the one it started in (and stays there if requeued).
    if (s.partition >= 0 && static_cast<size_t>(s.partition) < partitions.size() &&
        j.spec.partition.find(',') != std::string::npos) {
      j.spec.partition = partitions[s.partition].name;
    }
    // The decisions are against the snapshot: take them out of the nodes' free resources.
    for (const auto& a : s.alloc) {
      NodeEntry& n = nodes[a.node];
      std::vector<sched::NodeView> v{n.free};
      if (!sched::Reserve({a}, &v)) {
        spdlog::critical("scheduler: job {} was placed on {} beyond its free resources", s.id,
                         a.node);
        std::abort();
      }
      n.free = v[0];
    }
    Start(j, std::move(s.alloc), now, b);
    // On the GPU model chosen, it is planned for its runtime there.
    if (s.runtime_ms > 0) {
      j.estimate_ms = j.estimate_ms > 0 ? std::min(j.estimate_ms, s.runtime_ms) : s.runtime_ms;
    }
  }
  ApplyPreemptions(d.preemptions, now, b);
}

sched::PriorityInputs Controller::Impl::PriorityInputsOf(const Job& j) const {
  sched::PriorityInputs in;
  in.eligible_ms = j.submit_ms;
  in.cpus = j.spec.TotalCpus();
  in.gpus = j.spec.TotalGpus();
  in.nice = j.spec.nice;
  in.partition = PartitionFactor(j.spec);
  in.fairshare = FairShareFactor(j.spec);
  if (qos_top > 0) {
    auto q = qos.find(sched::QosOf(j.spec));
    if (q != qos.end()) in.qos = q->second.priority * sched::kOne / qos_top;
  }
  return in;
}

Result<v1::ExplainReply> Controller::Explain(int64_t job_id) const {
  using R = Result<v1::ExplainReply>;
  return impl_->Run<R>([this, job_id](Batch&) -> R {
    const Impl& I = *impl_;
    Job scratch;
    const Job* found = I.Lookup(job_id, &scratch);
    if (!found) return Status::NotFound("job " + std::to_string(job_id) + ": no such job");
    const Job& j = *found;
    const JobArray* of = I.jobs.count(job_id) ? nullptr : I.ArrayOf(job_id);
    const sched::SchedulerConfig& cfg = I.opts.scheduler;
    v1::ExplainReply r;
    *r.mutable_job() = I.MakeInfo(j);
    const sched::Partition* part = sched::TopPartition(I.partitions, j.spec.partition);
    const sched::BackfillMode mode = part && part->backfill ? *part->backfill : cfg.backfill.mode;
    r.set_backfill(sched::BackfillModeName(mode));
    auto tier = [&](const JobSpec& s) {
      const sched::Partition* p = sched::TopPartition(I.partitions, s.partition);
      return p ? p->priority_tier : 0;
    };
    const int32_t my_tier = tier(j.spec);
    std::vector<sched::NodeView> views;
    for (const auto& [name, n] : I.nodes) {
      views.push_back(n.free);
      views.back().up = n.Usable();
    }
    sched::ClusterTotals totals = sched::Totals(views);
    TimeMs now = WallNowMs();
    sched::Priority p = sched::ComputePriority(now, I.PriorityInputsOf(j), totals, cfg.weights);
    r.set_priority(p.value);
    r.set_nice(p.nice);
    for (const auto& f : sched::Factors(p, cfg.weights)) {
      auto* o = r.add_factors();
      o->set_name(f.name);
      o->set_factor_ppm(f.factor);
      o->set_weight(f.weight);
      o->set_contribution(f.contribution);
    }
    size_t rests = 0;
    for (JobId first : I.rest_pending) rests += I.arrays.at(first).rest();
    r.set_eligible(static_cast<int32_t>(I.pending.size() + rests));
    if (I.pending.count(job_id) || (of && I.rest_pending.count(of->first()))) {
      // Its place: the eligible jobs ahead of it in the order a pass takes them (partition
      // tier first, then priority, then id).
      int32_t ahead = 0;
      for (JobId other : I.pending) {
        if (other == job_id) continue;
        const Job& o = I.jobs.at(other);
        const int32_t t = tier(o.spec);
        if (t != my_tier) {
          ahead += t > my_tier ? 1 : 0;
          continue;
        }
        int64_t q = sched::ComputePriority(now, I.PriorityInputsOf(o), totals, cfg.weights).value;
        if (q > p.value || (q == p.value && other < job_id)) ++ahead;
      }
      for (JobId first : I.rest_pending) {
        // The tasks of an array's rest share their priority; ties go to the lower id.
        const JobArray& a = I.arrays.at(first);
        const int32_t t = tier(a.templ().spec);
        const int64_t q = t != my_tier ? 0
                                       : sched::ComputePriority(now, I.PriorityInputsOf(a.templ()),
                                                                totals, cfg.weights)
                                             .value;
        if (t > my_tier || (t == my_tier && q > p.value)) {
          ahead += static_cast<int32_t>(a.rest());
        } else if (t == my_tier && q == p.value) {
          a.ForEachRest([&](JobId other) { ahead += other < job_id ? 1 : 0; });
        }
      }
      r.set_position(ahead + 1);
    }
    return r;
  });
}

}  // namespace corral::ctld
