// Fair share in corrald: the account tree (`corral admin account|user`), kept in the store's
// admin table; the usage that running jobs accrue, decayed by the half-life and stored every
// few ticks; the factor each pending job gets (sched/core/fairshare.h, Fair Tree); and
// `corral share`. Methods of Controller (and Impl), on the writer thread.
//
// Usage is billing-seconds: (CPUs + gpu_weight x GPUs) x seconds held, charged at each tick
// for the time since the last one, and stored every --fairshare-store-seconds (a crash loses at
// most that much). With no account defined there is no fair share: the factor
// is 0 for every job and -A is only recorded.
#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "common/log.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {

constexpr const char* kAccountKind = "account";
constexpr const char* kUserKind = "user";        // name: user@account
constexpr const char* kUsageKind = "fairshare";  // one row, "usage"

std::string UserKey(const std::string& user, const std::string& account) {
  return user + "@" + account;
}

sched::AccountLimits LimitsOf(const v1::AccountSpec& a) {
  sched::AccountLimits l;
  l.grp_jobs = a.has_grp_jobs() ? a.grp_jobs() : -1;
  l.grp_cpus = a.has_grp_cpus() ? a.grp_cpus() : -1;
  l.grp_gpus = a.has_grp_gpus() ? a.grp_gpus() : -1;
  return l;
}

// An account as it is stored and listed.
v1::AccountSpec AccountRow(const sched::FairShareAccount& a, const sched::AccountLimits* l) {
  v1::AccountSpec row;
  row.set_name(a.name), row.set_parent(a.parent), row.set_shares(a.shares);
  if (l && l->grp_jobs >= 0) row.set_grp_jobs(l->grp_jobs);
  if (l && l->grp_cpus >= 0) row.set_grp_cpus(l->grp_cpus);
  if (l && l->grp_gpus >= 0) row.set_grp_gpus(l->grp_gpus);
  return row;
}

}  // namespace

void Controller::Impl::AccountLimitsFor(std::map<std::string, sched::AccountLimits>* out) const {
  out->clear();
  if (account_limits.empty()) return;
  for (const auto& a : fs_accounts) {
    auto it = account_limits.find(a.name);
    sched::AccountLimits l = it == account_limits.end() ? sched::AccountLimits{} : it->second;
    l.parent = a.parent;
    (*out)[a.name] = std::move(l);
  }
}

Status Controller::Impl::LoadFairShare() {
  auto rows = store->LoadAdmin(kAccountKind);
  if (!rows.ok()) return rows.status();
  for (const auto& [name, bytes] : *rows) {
    v1::AccountSpec a;
    if (!a.ParseFromString(bytes) || a.name() != name) {
      spdlog::error("state store: account row \"{}\" is unreadable; ignored", name);
      continue;
    }
    fs_accounts.push_back({a.name(), a.parent(), a.shares()});
    if (sched::AccountLimits l = LimitsOf(a); l.Limits()) account_limits[a.name()] = l;
  }
  auto urows = store->LoadAdmin(kUserKind);
  if (!urows.ok()) return urows.status();
  for (const auto& [name, bytes] : *urows) {
    v1::UserAssoc u;
    if (!u.ParseFromString(bytes) || UserKey(u.user(), u.account()) != name) {
      spdlog::error("state store: user row \"{}\" is unreadable; ignored", name);
      continue;
    }
    fs_users.push_back({u.user(), u.account(), u.shares()});
  }
  auto tree = sched::FairShareTree::Build(fs_accounts, fs_users);
  if (!tree.ok()) {
    // Only valid trees are stored; one that is not was written by something else.
    spdlog::error(
        "state store: the account tree does not hold together ({}); fair share is off "
        "until an admin fixes it",
        tree.status().message());
    fs_accounts.clear(), fs_users.clear();
    tree = sched::FairShareTree::Build({}, {});
  }
  fs_tree = std::make_unique<sched::FairShareTree>(std::move(*tree));
  auto usage = store->LoadAdmin(kUsageKind);
  if (!usage.ok()) return usage.status();
  fs_charged_ms = WallNowMs();
  for (const auto& [name, bytes] : *usage) {
    v1::FairShareUsageState st;
    if (name != "usage" || !st.ParseFromString(bytes)) continue;
    std::vector<sched::FairShareUsage> rows_in;
    for (const auto& r : st.rows()) rows_in.push_back({r.account(), r.user(), r.usage()});
    if (Status s = fs_tree->RestoreUsage(rows_in); !s.ok()) {
      spdlog::error("state store: fair-share usage: {}; starting from none", s.message());
    }
    // The time corrald was down decays the usage too; no job ran meanwhile as far as we know.
    if (st.charged_ms() > 0 && st.charged_ms() < fs_charged_ms) {
      fs_tree->Decay(fs_charged_ms - st.charged_ms(), opts.fairshare.half_life_ms);
    }
  }
  fs_persisted_ms = fs_charged_ms;
  return Status::Ok();
}

void Controller::Impl::ChargeUsage(TimeMs now) {
  const TimeMs since = fs_charged_ms;
  if (now <= since) return;
  fs_charged_ms = now;
  if (fs_accounts.empty()) return;
  fs_tree->Decay(now - since, opts.fairshare.half_life_ms);
  for (const auto& [name, n] : nodes) {
    for (JobId id : n.jobs) {
      const Job& j = jobs[id];
      if (j.alloc.empty() || j.alloc[0].node != name) continue;  // once per job
      const TimeMs held = std::min(now - since, now - j.start_ms);
      if (held <= 0) continue;
      const double billing = static_cast<double>(j.spec.TotalCpus()) +
                             opts.fairshare.gpu_weight * static_cast<double>(j.spec.TotalGpus());
      fs_tree->AddUsage(j.spec.account, j.spec.user, billing * static_cast<double>(held) / 1000);
    }
  }
}

Status Controller::Impl::PersistUsage(TimeMs now, bool force) {
  if (!force && now - fs_persisted_ms < opts.fairshare.store_every_ms) return Status::Ok();
  fs_persisted_ms = now;
  v1::FairShareUsageState st;
  st.set_charged_ms(fs_charged_ms);
  for (const auto& u : fs_tree->Usage()) {
    auto* r = st.add_rows();
    r->set_account(u.account);
    r->set_user(u.user);
    r->set_usage(u.usage);
  }
  return store->PutAdmin(kUsageKind, "usage", st.SerializeAsString());
}

int64_t Controller::Impl::FairShareFactor(const JobSpec& s) const {
  if (fs_accounts.empty()) return 0;
  return fs_tree->Factor(s.account, s.user);
}

std::string Controller::Impl::AdmitToAccount(JobSpec& s) const {
  if (fs_accounts.empty()) return "";  // no tree: -A is only recorded
  if (s.account.empty()) {
    // The user's default account: the first association, as sacctmgr's DefaultAccount.
    for (const auto& u : fs_users) {
      if (u.user == s.user) {
        s.account = u.account;
        return "";
      }
    }
    return "--account: user " + s.user +
           " has no account (an admin adds one: corral admin user add " + s.user +
           " --account NAME)";
  }
  if (!fs_tree->Has(s.account, s.user)) {
    return "--account " + s.account.substr(0, 64) + ": user " + s.user +
           " is not in it (corral share lists yours)";
  }
  return "";
}

Result<v1::AdminAccountReply> Controller::AdminAccount(const v1::AdminAccountRequest& req) {
  using R = Result<v1::AdminAccountReply>;
  return impl_->Run<R>([this, req](Batch& b) -> R {
    Impl& I = *impl_;
    const std::string& op = req.op();
    const std::string what = req.is_user() ? "user" : "account";
    std::vector<sched::FairShareAccount> accounts = I.fs_accounts;
    std::vector<sched::FairShareUser> users = I.fs_users;
    std::map<std::string, sched::AccountLimits> limits = I.account_limits;
    const v1::AccountSpec& a = req.account();
    const v1::UserAssoc& u = req.user();
    const std::string name = req.is_user() ? UserKey(u.user(), u.account()) : a.name();
    const std::string shown = req.is_user() ? "user " + u.user().substr(0, 64) + " (account " +
                                                  u.account().substr(0, 64) + ")"
                                            : "account " + a.name().substr(0, 64);
    auto acc = std::find_if(accounts.begin(), accounts.end(),
                            [&](const auto& x) { return x.name == a.name(); });
    auto usr = std::find_if(users.begin(), users.end(), [&](const auto& x) {
      return x.user == u.user() && x.account == u.account();
    });
    const bool exists = req.is_user() ? usr != users.end() : acc != accounts.end();
    std::string stored;  // add, modify: the row to store
    auto active = [&](auto pred) -> JobId { return I.FirstActive(pred, nullptr); };
    if (op == "add" || op == "modify") {
      if (op == "add" && exists) return Status::AlreadyExists(shown + ": exists already");
      if (op == "modify" && !exists) return Status::NotFound(shown + ": no such " + what);
      auto has = [&](const char* f) {
        return op == "add" || std::find(req.set().begin(), req.set().end(), f) != req.set().end();
      };
      static const std::set<std::string> kAccountFields = {"shares", "parent", "grp-jobs",
                                                           "grp-cpus", "grp-gpus"};
      for (const std::string& f : req.set()) {
        if (f != "shares" && !(!req.is_user() && kAccountFields.count(f))) {
          return Status::Invalid(what + " modify: unknown field \"" + f.substr(0, 32) + "\"");
        }
      }
      if (req.is_user()) {
        if (op == "add") usr = users.insert(users.end(), {u.user(), u.account(), 1});
        if (has("shares")) usr->shares = u.shares();
        v1::UserAssoc row;
        row.set_user(usr->user), row.set_account(usr->account), row.set_shares(usr->shares);
        stored = row.SerializeAsString();
      } else {
        if (op == "add") acc = accounts.insert(accounts.end(), {a.name(), "", 1});
        if (has("parent")) acc->parent = a.parent();
        if (has("shares")) acc->shares = a.shares();
        sched::AccountLimits l = LimitsOf(a), now;
        if (auto it = limits.find(acc->name); it != limits.end()) now = it->second;
        for (auto [field, value, max] :
             {std::tuple{"grp-jobs", int64_t{l.grp_jobs}, int64_t{1000000000}},
              {"grp-cpus", l.grp_cpus, int64_t{1} << 40},
              {"grp-gpus", l.grp_gpus, int64_t{1} << 30}}) {
          if (has(field) && (value < -1 || value > max)) {
            return Status::Invalid(shown + ": " + field + ": must be -1 (no limit) to " +
                                   std::to_string(max));
          }
        }
        if (has("grp-jobs")) now.grp_jobs = l.grp_jobs;
        if (has("grp-cpus")) now.grp_cpus = l.grp_cpus;
        if (has("grp-gpus")) now.grp_gpus = l.grp_gpus;
        if (now.Limits()) {
          limits[acc->name] = now;
        } else {
          limits.erase(acc->name);
        }
        stored = AccountRow(*acc, now.Limits() ? &now : nullptr).SerializeAsString();
      }
    } else if (op == "remove") {
      if (!exists) return Status::NotFound(shown + ": no such " + what);
      if (req.is_user()) {
        if (JobId id = active(
                [&](const JobSpec& s) { return s.user == u.user() && s.account == u.account(); })) {
          return Status::FailedPrecondition(shown + ": job " + std::to_string(id) +
                                            " is pending or running under it");
        }
        users.erase(usr);
      } else {
        for (const auto& x : accounts) {
          if (x.parent == a.name()) {
            return Status::FailedPrecondition(shown + ": has sub-account " + x.name +
                                              "; remove or move it first");
          }
        }
        for (const auto& x : users) {
          if (x.account == a.name()) {
            return Status::FailedPrecondition(shown + ": user " + x.user +
                                              " is in it; remove the user first");
          }
        }
        if (JobId id = active([&](const JobSpec& s) { return s.account == a.name(); })) {
          return Status::FailedPrecondition(shown + ": job " + std::to_string(id) +
                                            " is pending or running under it");
        }
        limits.erase(acc->name);
        accounts.erase(acc);
      }
    } else if (op != "list") {
      return Status::Invalid(what + ": unknown operation \"" + op.substr(0, 32) +
                             "\" (add, modify, remove or list)");
    }
    if (op != "list") {
      // The whole tree is checked again: cycles, unknown parents, bad shares. Nothing changes
      // on an error.
      auto tree = sched::FairShareTree::Build(accounts, users);
      if (!tree.ok()) return Status::Invalid(what + " " + op + ": " + tree.status().message());
      if (Status s = tree->RestoreUsage(I.fs_tree->Usage()); !s.ok()) return s;
      const char* kind = req.is_user() ? kUserKind : kAccountKind;
      if (Status s = op == "remove" ? I.store->DeleteAdmin(kind, name)
                                    : I.store->PutAdmin(kind, name, stored);
          !s.ok()) {
        return s;
      }
      I.fs_accounts = std::move(accounts);
      I.fs_users = std::move(users);
      I.account_limits = std::move(limits);
      I.fs_tree = std::make_unique<sched::FairShareTree>(std::move(*tree));
      spdlog::info("{}: {}", shown,
                   op == "add"      ? "added"
                   : op == "modify" ? "modified"
                                    : "removed");
      b.schedule = true;
    }
    v1::AdminAccountReply reply;
    for (const auto& x : I.fs_accounts) {
      auto l = I.account_limits.find(x.name);
      *reply.add_accounts() = AccountRow(x, l == I.account_limits.end() ? nullptr : &l->second);
    }
    for (const auto& x : I.fs_users) {
      auto* o = reply.add_users();
      o->set_user(x.user), o->set_account(x.account), o->set_shares(x.shares);
    }
    return reply;
  });
}

Result<v1::ShareReply> Controller::Share(const v1::ShareRequest& req) const {
  using R = Result<v1::ShareReply>;
  return impl_->Run<R>([this, req](Batch&) -> R {
    const Impl& I = *impl_;
    v1::ShareReply reply;
    reply.set_half_life_ms(I.opts.fairshare.half_life_ms);
    std::vector<sched::FairShareTree::Row> rows = I.fs_tree->Report();
    // Without --all: the caller's associations and the accounts above them.
    std::set<std::string> shown_accounts;
    if (!req.all()) {
      for (const auto& u : I.fs_users) {
        if (u.user != req.user()) continue;
        for (std::string acc = u.account; !acc.empty();) {
          if (!shown_accounts.insert(acc).second) break;
          auto p = std::find_if(I.fs_accounts.begin(), I.fs_accounts.end(),
                                [&](const auto& x) { return x.name == acc; });
          acc = p == I.fs_accounts.end() ? "" : p->parent;
        }
      }
    }
    for (const auto& r : rows) {
      if (!req.all()) {
        bool root = r.depth == 0;
        bool mine = r.user.empty() ? shown_accounts.count(r.account) > 0 : r.user == req.user();
        if (!root && !mine) continue;
      }
      auto* o = reply.add_rows();
      o->set_depth(r.depth);
      o->set_account(r.account);
      o->set_user(r.user);
      o->set_shares(r.shares);
      o->set_norm_shares_ppm(r.norm_shares);
      o->set_usage(r.usage);
      o->set_effective_usage_ppm(r.effective_usage);
      o->set_level_fs(r.level_fs);
      o->set_factor_ppm(r.factor);
    }
    return reply;
  });
}

}  // namespace corral::ctld
