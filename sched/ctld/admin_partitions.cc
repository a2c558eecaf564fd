// Admin state, partitions: `corral admin partition add|modify|remove|list`, seeded from the
// config file (corrald --config), kept in the store's admin table and applied by the scheduling
// pass (sched/core/partition.h). Methods of Controller (and Impl), on the writer thread.
//
// The config file and run-time changes: a partition the file defines is (re)written from the
// file when the file's definition of it is new or differs from the one it gave at the last
// start (the admin edited the file); otherwise the stored one, with any `modify` since, stays.
// A partition that the file used to define and no longer does is removed.
#include <algorithm>

#include "common/log.h"
#include "sched/ctld/admin_specs.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {
constexpr const char* kKind = "partition";
constexpr const char* kSeedKind = "partition-seed";  // the file's definition at the last start
}  // namespace

int32_t Controller::Impl::JobsIn(const std::string& partition, JobId* example) const {
  int32_t n = 0;
  JobId first = FirstActive(
      [&](const JobSpec& s) {
        if (s.partition == partition) return true;
        if (s.partition.find(',') == std::string::npos) return false;
        const std::vector<std::string> in = sched::PartitionList(s.partition);
        return std::find(in.begin(), in.end(), partition) != in.end();
      },
      &n);
  if (example) *example = first;
  return n;
}

Status Controller::Impl::PutPartition(const sched::Partition& p) {
  auto it = std::find_if(partitions.begin(), partitions.end(),
                         [&](const sched::Partition& o) { return o.name == p.name; });
  if (p.is_default) {
    for (sched::Partition& o : partitions) {
      if (o.name == p.name || !o.is_default) continue;
      o.is_default = false;  // one default: the last one set
      if (Status s = store->PutAdmin(kKind, o.name, PartitionToSpec(o).SerializeAsString());
          !s.ok()) {
        return s;
      }
    }
  }
  if (Status s = store->PutAdmin(kKind, p.name, PartitionToSpec(p).SerializeAsString()); !s.ok()) {
    return s;
  }
  if (it == partitions.end()) {
    partitions.push_back(p);
  } else {
    *it = p;
  }
  return Status::Ok();
}

Status Controller::Impl::LoadPartitions() {
  auto rows = store->LoadAdmin(kKind);
  if (!rows.ok()) return rows.status();
  for (const auto& [name, bytes] : *rows) {
    v1::PartitionSpec spec;
    Result<sched::Partition> p = Status::Invalid("unreadable");
    if (spec.ParseFromString(bytes) && spec.name() == name) p = PartitionFromSpec(spec);
    if (!p.ok()) {
      spdlog::error("state store: partition row \"{}\" is unreadable ({}); ignored", name,
                    p.status().message());
      continue;
    }
    partitions.push_back(*p);
  }
  if (!opts.config_given) return Status::Ok();
  auto seeds = store->LoadAdmin(kSeedKind);
  if (!seeds.ok()) return seeds.status();
  std::map<std::string, std::string> seeded(seeds->begin(), seeds->end());
  std::set<std::string> in_file;
  for (const v1::PartitionSpec& f : opts.partitions) {
    in_file.insert(f.name());
    std::string bytes = f.SerializeAsString();
    auto s = seeded.find(f.name());
    bool known = std::any_of(partitions.begin(), partitions.end(),
                             [&](const sched::Partition& p) { return p.name == f.name(); });
    if (known && s != seeded.end() && s->second == bytes) continue;  // as the file said before
    auto p = PartitionFromSpec(f);
    if (!p.ok())
      return Status::Invalid("config: partition " + f.name() + ": " + p.status().message());
    if (Status st = PutPartition(*p); !st.ok()) return st;
    if (Status st = store->PutAdmin(kSeedKind, f.name(), bytes); !st.ok()) return st;
    spdlog::info("partition {}: {} from the config file", f.name(), known ? "updated" : "added");
  }
  for (const auto& [name, bytes] : seeded) {
    if (in_file.count(name)) continue;
    JobId example = 0;
    if (int32_t n = JobsIn(name, &example); n > 0) {
      spdlog::warn(
          "partition {}: no longer in the config file, but {} job(s) use it (job {}); "
          "kept",
          name, n, example);
      continue;
    }
    if (Status st = store->DeleteAdmin(kKind, name); !st.ok()) return st;
    if (Status st = store->DeleteAdmin(kSeedKind, name); !st.ok()) return st;
    std::erase_if(partitions, [&](const sched::Partition& p) { return p.name == name; });
    spdlog::info("partition {}: removed (no longer in the config file)", name);
  }
  return Status::Ok();
}

std::string Controller::Impl::AdmitToPartition(JobSpec& s) const {
  if (partitions.empty()) return "";  // one implicit partition: -p is only recorded
  // -p a,b: every name must be defined; the job may run in any of them that takes it.
  const std::vector<std::string> names = sched::PartitionList(s.partition);
  if (names.size() > 64) return "--partition: more than 64 partitions";
  if (!s.partition.empty() && names.empty()) return "--partition: names no partition";
  std::vector<const sched::Partition*> in;
  for (const std::string& name : names.empty() ? std::vector<std::string>{""} : names) {
    const sched::Partition* p = sched::FindPartition(partitions, name);
    if (!p) {
      std::string known;
      for (const auto& o : partitions) known += (known.empty() ? "" : ", ") + o.name;
      return "--partition: no partition named \"" + name.substr(0, 64) + "\" (defined: " + known +
             ")";
    }
    in.push_back(p);
  }
  // Refused only when none of them would take it; one that would not is skipped by the passes.
  std::string why;
  std::erase_if(in, [&](const sched::Partition* p) {
    if (p->state == sched::PartitionState::kDrain) {
      if (why.empty()) why = "--partition " + p->name + ": draining, it takes no new jobs";
      return true;
    }
    if (!p->AllowsAccount(s.account)) {
      if (why.empty()) why = "--account " + s.account + ": not allowed in partition " + p->name;
      return true;
    }
    return false;
  });
  if (in.empty()) return why;
  const sched::Partition* p = in.front();
  s.partition.clear();
  for (const sched::Partition* o : in) s.partition += (s.partition.empty() ? "" : ",") + o->name;
  if (s.time_limit_ms == 0 && !s.interactive) {
    s.time_limit_ms = p->default_time_ms > 0 ? p->default_time_ms
                      : p->max_time_ms > 0   ? p->max_time_ms
                                             : 0;
  }
  return "";
}

int64_t Controller::Impl::PartitionFactor(const JobSpec& s) const {
  int32_t top = 0;
  for (const auto& p : partitions) top = std::max(top, p.priority_tier);
  const sched::Partition* p = sched::TopPartition(partitions, s.partition);
  if (!p || top <= 0) return 0;
  return int64_t{p->priority_tier} * sched::kOne / top;
}

Result<v1::AdminPartitionReply> Controller::AdminPartition(const v1::AdminPartitionRequest& req) {
  using R = Result<v1::AdminPartitionReply>;
  return impl_->Run<R>([this, req](Batch& b) -> R {
    Impl& I = *impl_;
    const std::string& op = req.op();
    const std::string& name = req.partition().name();
    auto it = std::find_if(I.partitions.begin(), I.partitions.end(),
                           [&](const sched::Partition& p) { return p.name == name; });
    const bool exists = it != I.partitions.end();
    if (op == "add" || op == "modify") {
      if (op == "add" && exists) {
        return Status::AlreadyExists("partition " + name + ": exists already; use modify");
      }
      if (op == "modify" && !exists) {
        return Status::NotFound("partition " + name.substr(0, 64) + ": no such partition");
      }
      v1::PartitionSpec spec = req.partition();
      if (op == "modify") {
        spec = PartitionToSpec(*it);
        for (const std::string& f : req.set()) {
          if (!CopyPartitionField(f, req.partition(), &spec)) {
            return Status::Invalid("partition modify: unknown field \"" + f.substr(0, 32) + "\"");
          }
        }
      }
      auto p = PartitionFromSpec(spec);
      if (!p.ok()) return Status::Invalid("partition " + op + ": " + p.status().message());
      if (Status s = I.PutPartition(*p); !s.ok()) return s;
      spdlog::info("partition {}: {}", name, op == "add" ? "added" : "modified");
      b.schedule = true;
      b.nodes_changed = true;
    } else if (op == "remove") {
      if (!exists)
        return Status::NotFound("partition " + name.substr(0, 64) + ": no such partition");
      JobId example = 0;
      if (int32_t n = I.JobsIn(name, &example); n > 0) {
        return Status::FailedPrecondition("partition " + name + ": " + std::to_string(n) +
                                          " pending or running job(s) use it (job " +
                                          std::to_string(example) + ", ...)");
      }
      if (Status s = I.store->DeleteAdmin(kKind, name); !s.ok()) return s;
      I.partitions.erase(it);
      spdlog::info("partition {}: removed", name);
      b.nodes_changed = true;
    } else if (op != "list") {
      return Status::Invalid("partition: unknown operation \"" + op.substr(0, 32) +
                             "\" (add, modify, remove or list)");
    }
    v1::AdminPartitionReply reply;
    for (const auto& p : I.partitions) {
      *reply.add_partitions() = PartitionToSpec(p);
      int32_t n = 0;
      for (const auto& [node, e] : I.nodes) n += p.HasNode(node) ? 1 : 0;
      reply.add_node_counts(p.name + "=" + std::to_string(n));
    }
    return reply;
  });
}

}  // namespace corral::ctld
