// corral admin reservation add|modify|remove|list (like scontrol create/update/delete
// reservation): whole nodes kept over a time window for users or accounts, or for maintenance.
#include <iostream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "cli/admin_common.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/job_options.h"
#include "cli/options.h"
#include "cli/table.h"
#include "common/time.h"

namespace corral::cli {

namespace {

constexpr const char* kUsage =
    "Usage: corral admin reservation list [--json]\n"
    "       corral admin reservation add NAME --nodes LIST --start WHEN (--end WHEN | --duration "
    "D)\n"
    "                                    (--users LIST | --accounts LIST | --maintenance)\n"
    "       corral admin reservation modify NAME [SETTINGS]   (what is not given stays)\n"
    "       corral admin reservation remove NAME\n\n"
    "During its window only jobs submitted with --reservation NAME (by its users or accounts)\n"
    "run on its nodes, and they run only there; a maintenance reservation takes no jobs. Jobs\n"
    "that would still run when it starts are not started on its nodes. WHEN is now,\n"
    "now+DURATION (e.g. now+30, now+2:00:00) or YYYY-MM-DDTHH:MM[:SS] in UTC. Reservations\n"
    "never overlap on a node; one is dropped when it ends.";

int UsageError(const Status& s) {
  std::cerr << "corral admin reservation: " << s.message() << "\n";
  return kExitUsage;
}

}  // namespace

int AdminReservation(const Args& args) {
  po::options_description d("Options");
  std::string controller, nodes, users, accounts, start, end, duration;
  std::vector<std::string> words;
  bool json = false, maintenance = false;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "json", po::bool_switch(&json), "print JSON")(
      "nodes", po::value(&nodes), "its nodes: names or patterns, comma-separated, or ALL")(
      "start", po::value(&start), "when it begins")("end", po::value(&end), "when it ends")(
      "duration", po::value(&duration), "how long it lasts (instead of --end)")(
      "users", po::value(&users), "users whose jobs may use it, comma-separated")(
      "accounts", po::value(&accounts), "accounts whose jobs may use it, comma-separated")(
      "maintenance", po::bool_switch(&maintenance), "for maintenance: no job runs on its nodes")(
      "words", po::value(&words)->multitoken(), "OP [NAME]");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("admin reservation", kUsage, args, d, &pos, &vm, &exit)) return exit;
  auto op = AdminOperation("reservation", words);
  if (!op) return kExitUsage;
  if (vm.count("end") && vm.count("duration")) {
    std::cerr << "corral admin reservation: give --end or --duration, not both\n";
    return kExitUsage;
  }
  v1::AdminReservationRequest req;
  req.set_op(*op);
  auto* r = req.mutable_reservation();
  if (words.size() > 1) r->set_name(words[1]);
  const TimeMs now = WallNowMs();
  Client c(ResolveController(controller));
  // --duration counts from --start, or from the stored start when modify does not move it.
  TimeMs from = 0;
  if (vm.count("start")) {
    auto t = ParseWhen("--start", start, now);
    if (!t.ok()) return UsageError(t.status());
    r->set_start_ms(*t), req.add_set("start"), from = *t;
  } else if (*op == "modify" && vm.count("duration")) {
    v1::AdminReservationRequest list;
    list.set_op("list");
    v1::AdminReservationReply all;
    if (Status s = c.Call(&v1::Controller::Stub::AdminReservation, list, &all); !s.ok()) {
      return Fail("admin reservation", s);
    }
    for (const auto& x : all.reservations()) {
      if (x.name() == words[1]) from = x.start_ms();
    }
  }
  if (vm.count("end")) {
    auto t = ParseWhen("--end", end, now);
    if (!t.ok()) return UsageError(t.status());
    r->set_end_ms(*t), req.add_set("end");
  }
  if (vm.count("duration")) {
    Result<int64_t> ms = ParseTimeLimitMs(duration);
    if (!ms.ok() || *ms <= 0) {
      std::cerr << "corral admin reservation: --duration: "
                << (ms.ok() ? "must be a finite time" : ms.status().message()) << "\n";
      return kExitUsage;
    }
    r->set_end_ms(from + *ms), req.add_set("end");
  }
  for (auto [option, field, text, list] :
       {std::tuple{"nodes", "--nodes", &nodes, r->mutable_nodes()},
        {"users", "--users", &users, r->mutable_users()},
        {"accounts", "--accounts", &accounts, r->mutable_accounts()}}) {
    if (!vm.count(option)) continue;
    if (!SplitList("admin reservation", field, *text, list)) return kExitUsage;
    req.add_set(option);
  }
  if (maintenance) r->set_maintenance(true), req.add_set("maintenance");
  if (*op != "add" && *op != "modify" && req.set_size() > 0) {
    std::cerr << "corral admin reservation " << *op << ": takes no settings\n";
    return kExitUsage;
  }
  v1::AdminReservationReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::AdminReservation, req, &rep); !s.ok()) {
    return Fail("admin reservation", s);
  }
  auto list = [](const auto& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
    return out;
  };
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& x : rep.reservations()) {
      arr.push_back(
          {{"name", x.name()},
           {"nodes", std::vector<std::string>(x.nodes().begin(), x.nodes().end())},
           {"start_ms", x.start_ms()},
           {"end_ms", x.end_ms()},
           {"users", std::vector<std::string>(x.users().begin(), x.users().end())},
           {"accounts", std::vector<std::string>(x.accounts().begin(), x.accounts().end())},
           {"maintenance", x.maintenance()}});
    }
    std::cout << nlohmann::json{{"reservations", arr}}.dump(2) << "\n";
    return kExitOk;
  }
  if (*op != "list") {
    std::cout << "reservation " << words[1] << ": " << PastTense(*op) << "\n";
    return kExitOk;
  }
  Table t({"RESERVATION", "NODES", "START", "END", "DURATION", "FOR"});
  for (const auto& x : rep.reservations()) {
    std::string who = x.maintenance() ? std::string("maintenance") : "";
    if (x.users_size() > 0) who += "users=" + list(x.users());
    if (x.accounts_size() > 0) who += (who.empty() ? "" : " ") + ("accounts=" + list(x.accounts()));
    t.Add(x.name(), list(x.nodes()), FormatTime(x.start_ms()), FormatTime(x.end_ms()),
          FormatDuration(x.end_ms() - x.start_ms()), who);
  }
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace corral::cli
