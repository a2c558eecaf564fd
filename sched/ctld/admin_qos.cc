// Admin state, QOS: `corral admin qos add|modify|remove|list`, kept in the store's admin table
// and applied by the scheduling pass (sched/core/limits.h). Methods of Controller (and Impl),
// on the writer thread.
#include <algorithm>
#include <cctype>

#include "common/log.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {

constexpr const char* kKind = "qos";

sched::Qos FromSpec(const v1::QosSpec& q) {
  sched::Qos o;
  o.name = q.name();
  o.priority = q.priority();
  o.max_jobs_per_user = q.max_jobs_per_user();
  o.max_gpus_per_user = q.max_gpus_per_user();
  o.max_jobs_per_account = q.max_jobs_per_account();
  o.max_gpus_per_account = q.max_gpus_per_account();
  o.max_wall_ms = q.max_wall_ms();
  o.preempt.assign(q.preempt().begin(), q.preempt().end());
  // A row stored before preemption existed has no mode: such a QOS's jobs are cancelled.
  if (!sched::ParsePreemptMode(q.preempt_mode(), &o.preempt_mode)) {
    o.preempt_mode = sched::PreemptMode::kCancel;
  }
  o.grace_ms = q.grace_ms();
  return o;
}

v1::QosSpec ToSpec(const sched::Qos& q) {
  v1::QosSpec o;
  o.set_name(q.name);
  o.set_priority(q.priority);
  o.set_max_jobs_per_user(q.max_jobs_per_user);
  o.set_max_gpus_per_user(q.max_gpus_per_user);
  o.set_max_jobs_per_account(q.max_jobs_per_account);
  o.set_max_gpus_per_account(q.max_gpus_per_account);
  o.set_max_wall_ms(q.max_wall_ms);
  for (const std::string& p : q.preempt) o.add_preempt(p);
  o.set_preempt_mode(sched::PreemptModeName(q.preempt_mode));
  o.set_grace_ms(q.grace_ms);
  return o;
}

// "" or what is wrong with `q`, naming the field.
std::string Check(const v1::QosSpec& q) {
  const std::string& n = q.name();
  if (n.empty() || n.size() > 64) return "name: must be 1 to 64 characters";
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return "name: \"" + n.substr(0, 64) + "\": only letters, digits, '_', '-' and '.'";
    }
  }
  if (q.priority() < 0 || q.priority() > (int64_t{1} << 31)) {
    return "priority: must be 0 to 2147483648";
  }
  for (auto [field, v] : {std::pair{"max-jobs-per-user", q.max_jobs_per_user()},
                          {"max-gpus-per-user", q.max_gpus_per_user()},
                          {"max-jobs-per-account", q.max_jobs_per_account()},
                          {"max-gpus-per-account", q.max_gpus_per_account()}}) {
    if (v < -1 || v > 1000000000) {
      return std::string(field) + ": must be -1 (no limit) to 1000000000";
    }
  }
  if (q.max_wall_ms() < -1) return "max-wall: must be a time, or -1 for no limit";
  sched::PreemptMode mode;
  if (!q.preempt_mode().empty() && !sched::ParsePreemptMode(q.preempt_mode(), &mode)) {
    return "preempt-mode: \"" + q.preempt_mode().substr(0, 32) + "\": off, requeue or cancel";
  }
  if (q.preempt_size() > 64) return "preempt: at most 64 QOS names";
  for (const std::string& p : q.preempt()) {
    if (!sched::ValidName(p, false)) {
      return "preempt: \"" + p.substr(0, 64) + "\": not a QOS name";
    }
    if (p == q.name()) return "preempt: a QOS cannot preempt itself";
  }
  if (q.grace_ms() < 0 || q.grace_ms() > 24 * 3600 * 1000LL) {
    return "grace-time: must be 0 to 1 day";
  }
  return "";
}

}  // namespace

Status Controller::Impl::LoadQos() {
  auto rows = store->LoadAdmin(kKind);
  if (!rows.ok()) return rows.status();
  for (const auto& [name, bytes] : *rows) {
    v1::QosSpec q;
    if (!q.ParseFromString(bytes) || q.name() != name || !Check(q).empty()) {
      spdlog::error("state store: QOS row \"{}\" is unreadable; ignored", name);
      continue;
    }
    qos[name] = FromSpec(q);
  }
  if (!qos.count(sched::kDefaultQos)) {
    sched::Qos normal;
    normal.name = sched::kDefaultQos;
    if (Status s = store->PutAdmin(kKind, normal.name, ToSpec(normal).SerializeAsString());
        !s.ok()) {
      return s;
    }
    qos[normal.name] = normal;
  }
  for (const auto& [n, q] : qos) qos_top = std::max(qos_top, q.priority);
  return Status::Ok();
}

Result<v1::AdminQosReply> Controller::AdminQos(const v1::AdminQosRequest& req) {
  using R = Result<v1::AdminQosReply>;
  return impl_->Run<R>([this, req](Batch& b) -> R {
    Impl& I = *impl_;
    const std::string& op = req.op();
    const std::string& name = req.qos().name();
    if (op == "add" || op == "modify") {
      if (std::string why = Check(req.qos()); !why.empty()) {
        return Status::Invalid("qos " + op + ": " + why);
      }
      bool exists = I.qos.count(name) > 0;
      if (op == "add" && exists) {
        return Status::AlreadyExists("qos " + name + ": exists already; use modify");
      }
      if (op == "modify" && !exists) return Status::NotFound("qos " + name + ": no such QOS");
      if (Status s = I.store->PutAdmin(kKind, name, req.qos().SerializeAsString()); !s.ok()) {
        return s;
      }
      I.qos[name] = FromSpec(req.qos());
      spdlog::info("qos {}: {}", name, op == "add" ? "added" : "modified");
      b.schedule = true;
    } else if (op == "remove") {
      if (!I.qos.count(name)) return Status::NotFound("qos " + name + ": no such QOS");
      if (name == sched::kDefaultQos) {
        return Status::FailedPrecondition("qos " + name +
                                          ": the default QOS (jobs without --qos) stays");
      }
      int32_t users = 0;
      JobId example =
          I.FirstActive([&](const JobSpec& s) { return sched::QosOf(s) == name; }, &users);
      if (users > 0) {
        return Status::FailedPrecondition("qos " + name + ": " + std::to_string(users) +
                                          " pending or running job(s) use it (job " +
                                          std::to_string(example) + ", ...)");
      }
      if (Status s = I.store->DeleteAdmin(kKind, name); !s.ok()) return s;
      I.qos.erase(name);
      spdlog::info("qos {}: removed", name);
    } else if (op != "list") {
      return Status::Invalid("qos: unknown operation \"" + op.substr(0, 32) +
                             "\" (add, modify, remove or list)");
    }
    I.qos_top = 0;
    for (const auto& [n, q] : I.qos) I.qos_top = std::max(I.qos_top, q.priority);
    v1::AdminQosReply reply;
    for (const auto& [n, q] : I.qos) *reply.add_qos() = ToSpec(q);
    return reply;
  });
}

}  // namespace corral::ctld
