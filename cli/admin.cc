// corral admin: what a centre's admins manage: `corral admin qos add|modify|remove|list` (like
// sacctmgr add/modify/delete/show qos) here; partitions and reservations in files of their own.
#include <iostream>

#include "cli/admin_common.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/job_options.h"
#include "cli/options.h"
#include "cli/table.h"
#include "common/time.h"
#include "fabric/record_json.h"

namespace corral::cli {

namespace {

constexpr const char* kQosUsage =
    "Usage: corral admin qos list [--json]\n"
    "       corral admin qos add NAME [LIMITS]\n"
    "       corral admin qos modify NAME [LIMITS]   (what is not given stays)\n"
    "       corral admin qos remove NAME\n\n"
    "A QOS gives its jobs (submitted with --qos NAME; without it, \"normal\") a priority factor "
    "and limits: a job that would exceed one waits, with the reason Slurm gives (e.g. "
    "QOSMaxJobsPerUserLimit). A limit of -1 means none.\n\n"
    "Preemption: a job whose QOS lists others in --preempt may preempt their running jobs when\n"
    "it cannot start otherwise; those get SIGTERM, their QOS's --grace-time, and are requeued\n"
    "or cancelled as their QOS's --preempt-mode says.";

nlohmann::json QosJson(const v1::QosSpec& q) {
  return {{"name", q.name()},
          {"priority", q.priority()},
          {"max_jobs_per_user", q.max_jobs_per_user()},
          {"max_gpus_per_user", q.max_gpus_per_user()},
          {"max_jobs_per_account", q.max_jobs_per_account()},
          {"max_gpus_per_account", q.max_gpus_per_account()},
          {"max_wall_ms", q.max_wall_ms()},
          {"preempt", std::vector<std::string>(q.preempt().begin(), q.preempt().end())},
          {"preempt_mode", q.preempt_mode()},
          {"grace_ms", q.grace_ms()}};
}

std::string Limit(int64_t v) {
  return v < 0 ? "-" : std::to_string(v);
}

int Qos(const Args& args) {
  po::options_description d("Options");
  std::string controller, max_wall, preempt, preempt_mode, grace;
  std::vector<std::string> words;
  bool json = false;
  int64_t priority = 0;
  int32_t jobs_user = -1, gpus_user = -1, jobs_account = -1, gpus_account = -1;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "json", po::bool_switch(&json), "print JSON")(
      "priority", po::value(&priority), "its priority (the QOS factor is this over the highest)")(
      "max-jobs-per-user", po::value(&jobs_user), "jobs a user may run at once under it")(
      "max-gpus-per-user", po::value(&gpus_user), "GPUs a user's jobs may hold at once")(
      "max-jobs-per-account", po::value(&jobs_account), "jobs an account may run at once")(
      "max-gpus-per-account", po::value(&gpus_account), "GPUs an account's jobs may hold")(
      "max-wall", po::value(&max_wall),
      "the longest --time a job may ask for (MIN, HH:MM:SS, D-HH, ...; UNLIMITED for none)")(
      "preempt", po::value(&preempt), "QOSes whose jobs this one's may preempt (a,b; '' none)")(
      "preempt-mode", po::value(&preempt_mode),
      "how this QOS's jobs are preempted: requeue or cancel (default), or off (never)")(
      "grace-time", po::value(&grace), "how long a preempted job has after SIGTERM")(
      "words", po::value(&words)->multitoken(), "OP [NAME]");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("admin qos", kQosUsage, args, d, &pos, &vm, &exit)) return exit;
  if (words.empty()) {
    std::cerr << "corral admin qos: give an operation: list, add, modify or remove\n";
    return kExitUsage;
  }
  const std::string op = words[0];
  v1::AdminQosRequest req;
  req.set_op(op);
  Client c(ResolveController(controller));
  if (op != "list") {
    if (words.size() != 2) {
      std::cerr << "corral admin qos " << op << ": give one QOS name\n";
      return kExitUsage;
    }
    req.mutable_qos()->set_name(words[1]);
  } else if (words.size() != 1) {
    std::cerr << "corral admin qos list: takes no name\n";
    return kExitUsage;
  }
  if (op == "modify") {
    // Start from what it is now: what is not given stays.
    v1::AdminQosRequest list;
    list.set_op("list");
    v1::AdminQosReply now;
    if (Status s = c.Call(&v1::Controller::Stub::AdminQos, list, &now); !s.ok()) {
      return Fail("admin qos", s);
    }
    bool found = false;
    for (const auto& q : now.qos()) {
      if (q.name() == words[1]) {
        *req.mutable_qos() = q;
        found = true;
      }
    }
    if (!found) {
      std::cerr << "corral admin qos modify: no QOS named " << words[1] << "\n";
      return kExitRejected;
    }
  } else if (op == "add") {
    auto* q = req.mutable_qos();
    q->set_max_jobs_per_user(-1);
    q->set_max_gpus_per_user(-1);
    q->set_max_jobs_per_account(-1);
    q->set_max_gpus_per_account(-1);
    q->set_max_wall_ms(-1);
    q->set_preempt_mode("cancel");
  }
  auto* q = req.mutable_qos();
  if (vm.count("priority")) q->set_priority(priority);
  if (vm.count("max-jobs-per-user")) q->set_max_jobs_per_user(jobs_user);
  if (vm.count("max-gpus-per-user")) q->set_max_gpus_per_user(gpus_user);
  if (vm.count("max-jobs-per-account")) q->set_max_jobs_per_account(jobs_account);
  if (vm.count("max-gpus-per-account")) q->set_max_gpus_per_account(gpus_account);
  if (vm.count("max-wall")) {
    Result<int64_t> ms = ParseTimeLimitMs(max_wall);
    if (!ms.ok()) {
      std::cerr << "corral admin qos: --max-wall " << max_wall << ": " << ms.status().message()
                << "\n";
      return kExitUsage;
    }
    q->set_max_wall_ms(*ms == 0 ? -1 : *ms);
  }
  if (vm.count("preempt")) {
    q->clear_preempt();
    if (!preempt.empty() && !SplitList("admin qos", "--preempt", preempt, q->mutable_preempt())) {
      return kExitUsage;
    }
  }
  if (vm.count("preempt-mode")) q->set_preempt_mode(preempt_mode);
  if (vm.count("grace-time")) {
    Result<int64_t> ms = ParseTimeLimitMs(grace);
    if (!ms.ok()) {
      std::cerr << "corral admin qos: --grace-time " << grace << ": " << ms.status().message()
                << "\n";
      return kExitUsage;
    }
    q->set_grace_ms(*ms);
  }
  v1::AdminQosReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::AdminQos, req, &rep); !s.ok()) {
    return Fail("admin qos", s);
  }
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& x : rep.qos()) arr.push_back(QosJson(x));
    std::cout << nlohmann::json{{"qos", arr}}.dump(2) << "\n";
    return kExitOk;
  }
  if (op != "list") {
    std::cout << "qos " << words[1] << ": "
              << (op == "add"      ? "added"
                  : op == "modify" ? "modified"
                                   : "removed")
              << "\n";
    return kExitOk;
  }
  Table t({"NAME", "PRIORITY", "MAX_JOBS_PU", "MAX_GPUS_PU", "MAX_JOBS_PA", "MAX_GPUS_PA",
           "MAX_WALL", "PREEMPT", "PREEMPT_MODE", "GRACE"});
  for (const auto& x : rep.qos()) {
    std::string listed;
    for (const auto& p : x.preempt()) listed += (listed.empty() ? "" : ",") + p;
    t.Add(x.name(), std::to_string(x.priority()), Limit(x.max_jobs_per_user()),
          Limit(x.max_gpus_per_user()), Limit(x.max_jobs_per_account()),
          Limit(x.max_gpus_per_account()),
          x.max_wall_ms() < 0 ? std::string("-") : FormatDuration(x.max_wall_ms()),
          listed.empty() ? "-" : listed, x.preempt_mode(), FormatDuration(x.grace_ms()));
  }
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace

int Admin(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: corral admin OBJECT OP ...   (corral admin OBJECT --help)\n\n"
                 "What admins manage:\n"
                 "  qos          priorities and limits per user and account\n"
                 "  node         drain, down and resume nodes, with a reason\n"
                 "  partition    node sets with limits, priority tiers and preemption\n"
                 "  reservation  nodes kept over a time window for users, or for maintenance\n"
                 "  account      the fair-share tree: accounts with shares of their parent\n"
                 "  user         users' associations with accounts, with shares\n"
                 "  token        credentials: users' tokens with a role, nodes' join tokens\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "qos") return Qos(rest);
  if (args[0] == "partition") return AdminPartition(rest);
  if (args[0] == "node") return AdminNode(rest);
  if (args[0] == "reservation") return AdminReservation(rest);
  if (args[0] == "account") return AdminAccount(rest, false);
  if (args[0] == "user") return AdminAccount(rest, true);
  if (args[0] == "token") return AdminToken(rest);
  std::cerr << "corral admin: unknown object \"" << args[0].substr(0, 32)
            << "\" (qos, node, partition, reservation, account, user, token)\n";
  return kExitUsage;
}

}  // namespace corral::cli
