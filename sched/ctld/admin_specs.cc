#include "sched/ctld/admin_specs.h"

#include <functional>
#include <map>

namespace corral::ctld {

Result<sched::Partition> PartitionFromSpec(const v1::PartitionSpec& p) {
  sched::Partition o;
  o.name = p.name();
  o.nodes.assign(p.nodes().begin(), p.nodes().end());
  o.is_default = p.is_default();
  if (!p.state().empty() && !sched::ParsePartitionState(p.state(), &o.state)) {
    return Status::Invalid("state: \"" + p.state().substr(0, 32) + "\": up, down or drain");
  }
  o.default_time_ms = p.default_time_ms();
  o.max_time_ms = p.max_time_ms();
  o.max_nodes = p.max_nodes();
  o.accounts.assign(p.accounts().begin(), p.accounts().end());
  o.priority_tier = p.priority_tier();
  if (!p.preempt_mode().empty() && !sched::ParsePreemptMode(p.preempt_mode(), &o.preempt_mode)) {
    return Status::Invalid("preempt-mode: \"" + p.preempt_mode().substr(0, 32) +
                           "\": off, requeue or cancel");
  }
  o.grace_ms = p.grace_ms();
  if (sched::BackfillMode m; sched::ParseBackfillMode(p.backfill(), &m)) {
    o.backfill = m;
  } else if (!p.backfill().empty()) {
    return Status::Invalid("backfill: \"" + p.backfill().substr(0, 32) +
                           "\": easy, conservative or fcfs");
  }
  if (std::string why = sched::CheckPartition(o); !why.empty()) return Status::Invalid(why);
  return o;
}

v1::PartitionSpec PartitionToSpec(const sched::Partition& p) {
  v1::PartitionSpec o;
  o.set_name(p.name);
  for (const auto& n : p.nodes) o.add_nodes(n);
  o.set_is_default(p.is_default);
  o.set_state(sched::PartitionStateName(p.state));
  o.set_default_time_ms(p.default_time_ms);
  o.set_max_time_ms(p.max_time_ms);
  o.set_max_nodes(p.max_nodes);
  for (const auto& a : p.accounts) o.add_accounts(a);
  o.set_priority_tier(p.priority_tier);
  o.set_preempt_mode(sched::PreemptModeName(p.preempt_mode));
  o.set_grace_ms(p.grace_ms);
  if (p.backfill) {
    o.set_backfill(sched::BackfillModeName(*p.backfill));
  }
  return o;
}

namespace {

template <typename Spec>
using Copier = std::function<void(const Spec&, Spec*)>;

const std::map<std::string, Copier<v1::PartitionSpec>>& PartitionCopiers() {
  using S = v1::PartitionSpec;
  static const std::map<std::string, Copier<S>> m = {
      {"nodes", [](const S& f, S* t) { *t->mutable_nodes() = f.nodes(); }},
      {"default", [](const S& f, S* t) { t->set_is_default(f.is_default()); }},
      {"state", [](const S& f, S* t) { t->set_state(f.state()); }},
      {"default-time", [](const S& f, S* t) { t->set_default_time_ms(f.default_time_ms()); }},
      {"max-time", [](const S& f, S* t) { t->set_max_time_ms(f.max_time_ms()); }},
      {"max-nodes", [](const S& f, S* t) { t->set_max_nodes(f.max_nodes()); }},
      {"accounts", [](const S& f, S* t) { *t->mutable_accounts() = f.accounts(); }},
      {"priority-tier", [](const S& f, S* t) { t->set_priority_tier(f.priority_tier()); }},
      {"preempt-mode", [](const S& f, S* t) { t->set_preempt_mode(f.preempt_mode()); }},
      {"grace-time", [](const S& f, S* t) { t->set_grace_ms(f.grace_ms()); }},
      {"backfill", [](const S& f, S* t) { t->set_backfill(f.backfill()); }},
  };
  return m;
}

const std::map<std::string, Copier<v1::ReservationSpec>>& ReservationCopiers() {
  using S = v1::ReservationSpec;
  static const std::map<std::string, Copier<S>> m = {
      {"nodes", [](const S& f, S* t) { *t->mutable_nodes() = f.nodes(); }},
      {"start", [](const S& f, S* t) { t->set_start_ms(f.start_ms()); }},
      {"end", [](const S& f, S* t) { t->set_end_ms(f.end_ms()); }},
      {"users", [](const S& f, S* t) { *t->mutable_users() = f.users(); }},
      {"accounts", [](const S& f, S* t) { *t->mutable_accounts() = f.accounts(); }},
      {"maintenance", [](const S& f, S* t) { t->set_maintenance(f.maintenance()); }},
  };
  return m;
}

template <typename M>
std::vector<std::string> Keys(const M& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

}  // namespace

const std::vector<std::string>& PartitionFields() {
  static const std::vector<std::string> k = Keys(PartitionCopiers());
  return k;
}

bool CopyPartitionField(const std::string& name, const v1::PartitionSpec& from,
                        v1::PartitionSpec* to) {
  auto it = PartitionCopiers().find(name);
  if (it == PartitionCopiers().end()) return false;
  it->second(from, to);
  return true;
}

Result<sched::AdvanceReservation> ReservationFromSpec(const v1::ReservationSpec& r, TimeMs now) {
  sched::AdvanceReservation o;
  o.name = r.name();
  o.nodes.assign(r.nodes().begin(), r.nodes().end());
  o.start = r.start_ms();
  o.end = r.end_ms();
  o.users.assign(r.users().begin(), r.users().end());
  o.accounts.assign(r.accounts().begin(), r.accounts().end());
  o.maintenance = r.maintenance();
  if (std::string why = sched::CheckReservation(o, now); !why.empty()) return Status::Invalid(why);
  return o;
}

v1::ReservationSpec ReservationToSpec(const sched::AdvanceReservation& r) {
  v1::ReservationSpec o;
  o.set_name(r.name);
  for (const auto& n : r.nodes) o.add_nodes(n);
  o.set_start_ms(r.start);
  o.set_end_ms(r.end);
  for (const auto& u : r.users) o.add_users(u);
  for (const auto& a : r.accounts) o.add_accounts(a);
  o.set_maintenance(r.maintenance);
  return o;
}

const std::vector<std::string>& ReservationFields() {
  static const std::vector<std::string> k = Keys(ReservationCopiers());
  return k;
}

bool CopyReservationField(const std::string& name, const v1::ReservationSpec& from,
                          v1::ReservationSpec* to) {
  auto it = ReservationCopiers().find(name);
  if (it == ReservationCopiers().end()) return false;
  it->second(from, to);
  return true;
}

}  // namespace corral::ctld
