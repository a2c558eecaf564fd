// Admin state, advance reservations: `corral admin reservation add|modify|remove|list`, kept in
// the store's admin table, applied by the scheduling pass (sched/core/advance_reservation.h)
// and dropped once they end. Methods of Controller (and Impl), on the writer thread.
#include <algorithm>

#include "common/log.h"
#include "common/time.h"
#include "sched/ctld/admin_specs.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {
constexpr const char* kKind = "reservation";
}  // namespace

Status Controller::Impl::LoadReservations() {
  auto rows = store->LoadAdmin(kKind);
  if (!rows.ok()) return rows.status();
  const TimeMs now = WallNowMs();
  for (const auto& [name, bytes] : *rows) {
    v1::ReservationSpec spec;
    if (!spec.ParseFromString(bytes) || spec.name() != name) {
      spdlog::error("state store: reservation row \"{}\" is unreadable; ignored", name);
      continue;
    }
    auto r = ReservationFromSpec(spec, now);
    if (!r.ok()) {  // ended while corrald was down
      spdlog::info("reservation {}: {}; dropped", name, r.status().message());
      if (Status s = store->DeleteAdmin(kKind, name); !s.ok()) return s;
      continue;
    }
    advance.push_back(*r);
  }
  return Status::Ok();
}

void Controller::Impl::ExpireReservations(TimeMs now, Batch& b) {
  for (auto it = advance.begin(); it != advance.end();) {
    if (it->end > now) {
      ++it;
      continue;
    }
    if (Status s = store->DeleteAdmin(kKind, it->name); !s.ok()) {
      spdlog::error("state store: dropping reservation {}: {}", it->name, s.message());
      ++it;
      continue;
    }
    spdlog::info("reservation {}: ended", it->name);
    it = advance.erase(it);
    b.schedule = true;
  }
}

std::string Controller::Impl::AdmitToReservation(const JobSpec& s) const {
  if (s.reservation.empty()) return "";
  auto it = std::find_if(advance.begin(), advance.end(), [&](const sched::AdvanceReservation& r) {
    return r.name == s.reservation;
  });
  if (it == advance.end()) {
    return "--reservation: no reservation named \"" + s.reservation.substr(0, 64) + "\"";
  }
  if (!it->Admits(s)) {
    return "--reservation " + it->name + ": " +
           (it->maintenance ? std::string("a maintenance reservation takes no jobs")
                            : "user " + s.user + " (account " +
                                  (s.account.empty() ? "-" : s.account) + ") is not in it");
  }
  return "";
}

Result<v1::AdminReservationReply> Controller::AdminReservation(
    const v1::AdminReservationRequest& req) {
  using R = Result<v1::AdminReservationReply>;
  return impl_->Run<R>([this, req](Batch& b) -> R {
    Impl& I = *impl_;
    const std::string& op = req.op();
    const std::string& name = req.reservation().name();
    auto it = std::find_if(I.advance.begin(), I.advance.end(),
                           [&](const sched::AdvanceReservation& r) { return r.name == name; });
    const bool exists = it != I.advance.end();
    const TimeMs now = WallNowMs();
    if (op == "add" || op == "modify") {
      if (op == "add" && exists) {
        return Status::AlreadyExists("reservation " + name + ": exists already; use modify");
      }
      if (op == "modify" && !exists) {
        return Status::NotFound("reservation " + name.substr(0, 64) + ": no such reservation");
      }
      v1::ReservationSpec spec = req.reservation();
      if (op == "modify") {
        spec = ReservationToSpec(*it);
        for (const std::string& f : req.set()) {
          if (!CopyReservationField(f, req.reservation(), &spec)) {
            return Status::Invalid("reservation modify: unknown field \"" + f.substr(0, 32) + "\"");
          }
        }
      }
      auto r = ReservationFromSpec(spec, now);
      if (!r.ok()) return Status::Invalid("reservation " + op + ": " + r.status().message());
      std::vector<std::string> names;
      for (const auto& [n, e] : I.nodes) names.push_back(n);
      if (std::string o = sched::FindOverlap(*r, I.advance, names); !o.empty()) {
        return Status::FailedPrecondition("reservation " + name + ": overlaps: " + o);
      }
      if (Status s = I.store->PutAdmin(kKind, name, ReservationToSpec(*r).SerializeAsString());
          !s.ok()) {
        return s;
      }
      if (exists) {
        *it = *r;
      } else {
        I.advance.push_back(*r);
      }
      spdlog::info("reservation {}: {} ({} to {})", name, op == "add" ? "added" : "modified",
                   FormatTime(r->start), FormatTime(r->end));
      b.schedule = true;
    } else if (op == "remove") {
      if (!exists) {
        return Status::NotFound("reservation " + name.substr(0, 64) + ": no such reservation");
      }
      for (const auto& [id, j] : I.jobs) {
        if (j.state == JobState::kRunning && j.spec.reservation == name) {
          return Status::FailedPrecondition("reservation " + name + ": job " + std::to_string(id) +
                                            " runs in it");
        }
      }
      if (Status s = I.store->DeleteAdmin(kKind, name); !s.ok()) return s;
      I.advance.erase(it);
      spdlog::info("reservation {}: removed", name);
      b.schedule = true;
    } else if (op != "list") {
      return Status::Invalid("reservation: unknown operation \"" + op.substr(0, 32) +
                             "\" (add, modify, remove or list)");
    }
    v1::AdminReservationReply reply;
    for (const auto& r : I.advance) *reply.add_reservations() = ReservationToSpec(r);
    return reply;
  });
}

}  // namespace corral::ctld
