// corral admin account|user add|modify|remove|list (like sacctmgr add/modify/delete/show
// account and user): the fair-share tree of accounts, and the users' associations with them.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/admin_common.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/table.h"

namespace corral::cli {

namespace {

constexpr const char* kAccountUsage =
    "Usage: corral admin account list [--json]\n"
    "       corral admin account add NAME [--parent ACCOUNT] [--shares N] [LIMITS]\n"
    "       corral admin account modify NAME [--parent ACCOUNT] [--shares N] [LIMITS]\n"
    "       corral admin account remove NAME\n\n"
    "Accounts form a tree under the root; each has shares of its parent (1 by default). Fair\n"
    "share (Fair Tree) ranks every user by how their usage compares with these shares, level by\n"
    "level; `corral share` shows it. Usage decays with corrald's --fairshare-half-life-hours.\n"
    "Group limits (--grp-jobs, --grp-cpus, --grp-gpus; -1: none) hold what the jobs of the\n"
    "account and all its sub-accounts run at once; a job over one waits as AssocGrpJobsLimit,\n"
    "AssocGrpCpuLimit or AssocGrpGRES.";

constexpr const char* kUserUsage =
    "Usage: corral admin user list [--json]\n"
    "       corral admin user add USER --account ACCOUNT [--shares N]\n"
    "       corral admin user modify USER --account ACCOUNT --shares N\n"
    "       corral admin user remove USER --account ACCOUNT\n\n"
    "Associates a user with an account, with shares among the account's users. Once accounts\n"
    "exist, a user's jobs run under one of their accounts (-A; without it, the first one added).";

}  // namespace

int AdminAccount(const Args& args, bool is_user) {
  po::options_description d("Options");
  std::string controller, parent, account;
  std::vector<std::string> words;
  bool json = false;
  int64_t shares = 1, grp_cpus = -1, grp_gpus = -1;
  int32_t grp_jobs = -1;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "json", po::bool_switch(&json), "print JSON")("shares", po::value(&shares),
                                                    "its shares of the parent (0 to 1000000000)");
  if (is_user) {
    d.add_options()("account,A", po::value(&account), "the account");
  } else {
    d.add_options()("parent", po::value(&parent), "the parent account (none: the root)")(
        "grp-jobs", po::value(&grp_jobs), "jobs its tree may run at once (-1: no limit)")(
        "grp-cpus", po::value(&grp_cpus), "CPUs its tree's running jobs may hold")(
        "grp-gpus", po::value(&grp_gpus), "GPUs its tree's running jobs may hold");
  }
  d.add_options()("words", po::value(&words)->multitoken(), "OP [NAME]");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  int exit = 0;
  const std::string object = is_user ? "user" : "account";
  if (!ParseArgs("admin " + object, is_user ? kUserUsage : kAccountUsage, args, d, &pos, &vm,
                 &exit)) {
    return exit;
  }
  auto op = AdminOperation(object, words);
  if (!op) return kExitUsage;
  v1::AdminAccountRequest req;
  req.set_op(*op);
  req.set_is_user(is_user);
  if (is_user && *op != "list") {
    if (account.empty()) {
      std::cerr << "corral admin user " << *op << ": give --account\n";
      return kExitUsage;
    }
    req.mutable_user()->set_user(words[1]);
    req.mutable_user()->set_account(account);
    req.mutable_user()->set_shares(shares);
  } else if (!is_user && *op != "list") {
    req.mutable_account()->set_name(words[1]);
    req.mutable_account()->set_parent(parent);
    req.mutable_account()->set_shares(shares);
  }
  if (vm.count("shares")) req.add_set("shares");
  if (vm.count("parent")) req.add_set("parent");
  if (vm.count("grp-jobs")) req.add_set("grp-jobs"), req.mutable_account()->set_grp_jobs(grp_jobs);
  if (vm.count("grp-cpus")) req.add_set("grp-cpus"), req.mutable_account()->set_grp_cpus(grp_cpus);
  if (vm.count("grp-gpus")) req.add_set("grp-gpus"), req.mutable_account()->set_grp_gpus(grp_gpus);
  if ((*op == "remove" || *op == "list") && req.set_size() > 0) {
    std::cerr << "corral admin " << object << " " << *op << ": takes no settings\n";
    return kExitUsage;
  }
  Client c(ResolveController(controller));
  v1::AdminAccountReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::AdminAccount, req, &rep); !s.ok()) {
    return Fail("admin " + object, s);
  }
  if (json) {
    nlohmann::json accounts = nlohmann::json::array(), users = nlohmann::json::array();
    for (const auto& a : rep.accounts()) {
      accounts.push_back({{"name", a.name()},
                          {"parent", a.parent()},
                          {"shares", a.shares()},
                          {"grp_jobs", a.has_grp_jobs() ? a.grp_jobs() : -1},
                          {"grp_cpus", a.has_grp_cpus() ? a.grp_cpus() : -1},
                          {"grp_gpus", a.has_grp_gpus() ? a.grp_gpus() : -1}});
    }
    for (const auto& u : rep.users()) {
      users.push_back({{"user", u.user()}, {"account", u.account()}, {"shares", u.shares()}});
    }
    std::cout << nlohmann::json{{"accounts", accounts}, {"users", users}}.dump(2) << "\n";
    return kExitOk;
  }
  if (*op != "list") {
    std::cout << object << " " << words[1] << (is_user ? " (account " + account + ")" : "") << ": "
              << PastTense(*op) << "\n";
    return kExitOk;
  }
  if (is_user) {
    Table t({"USER", "ACCOUNT", "SHARES"});
    for (const auto& u : rep.users()) t.Add(u.user(), u.account(), std::to_string(u.shares()));
    t.Print(std::cout);
  } else {
    Table t({"ACCOUNT", "PARENT", "SHARES", "GRP_JOBS", "GRP_CPUS", "GRP_GPUS"});
    auto limit = [](bool has, int64_t v) { return has ? std::to_string(v) : std::string("-"); };
    for (const auto& a : rep.accounts()) {
      t.Add(a.name(), a.parent().empty() ? std::string("root") : a.parent(),
            std::to_string(a.shares()), limit(a.has_grp_jobs(), a.grp_jobs()),
            limit(a.has_grp_cpus(), a.grp_cpus()), limit(a.has_grp_gpus(), a.grp_gpus()));
    }
    t.Print(std::cout);
  }
  return kExitOk;
}

}  // namespace corral::cli
