// corral admin partition add|modify|remove|list (like scontrol create/update/delete partition
// and sinfo -s): a partition's nodes, limits, tier and preemption mode, changed at run time.
#include <iostream>
#include <nlohmann/json.hpp>

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
    "Usage: corral admin partition list [--json]\n"
    "       corral admin partition add NAME --nodes LIST [SETTINGS]\n"
    "       corral admin partition modify NAME [SETTINGS]   (what is not given stays)\n"
    "       corral admin partition remove NAME\n\n"
    "A partition is a set of nodes (names, patterns with * and ?, or ALL) with limits. Jobs name\n"
    "theirs with -p; without it they go to the default one. A job over a limit waits, with\n"
    "Slurm's reason (PartitionTimeLimit, PartitionNodeLimit). Jobs of higher priority tiers are\n"
    "scheduled first and may preempt lower tiers' jobs whose partition allows it.";

std::string Time(int64_t ms) {
  return ms < 0 ? "-" : FormatDuration(ms);
}

nlohmann::json PartitionJson(const v1::PartitionSpec& p) {
  return {{"name", p.name()},
          {"nodes", std::vector<std::string>(p.nodes().begin(), p.nodes().end())},
          {"default", p.is_default()},
          {"state", p.state()},
          {"default_time_ms", p.default_time_ms()},
          {"max_time_ms", p.max_time_ms()},
          {"max_nodes", p.max_nodes()},
          {"accounts", std::vector<std::string>(p.accounts().begin(), p.accounts().end())},
          {"priority_tier", p.priority_tier()},
          {"preempt_mode", p.preempt_mode()},
          {"grace_ms", p.grace_ms()},
          {"backfill", p.backfill().empty() ? "corrald" : p.backfill()}};
}

}  // namespace

int AdminPartition(const Args& args) {
  po::options_description d("Options");
  std::string controller, nodes, accounts, default_time, max_time, grace, state, preempt, backfill;
  std::vector<std::string> words;
  bool json = false;
  int32_t max_nodes = -1, tier = 1;
  std::string is_default;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "json", po::bool_switch(&json), "print JSON")(
      "nodes", po::value(&nodes), "its nodes: names or patterns, comma-separated, or ALL")(
      "default", po::value(&is_default), "yes: jobs without -p go here")(
      "state", po::value(&state), "up, down (nothing starts) or drain (no new jobs)")(
      "default-time", po::value(&default_time), "time limit of jobs without -t")(
      "max-time", po::value(&max_time), "the longest time limit (UNLIMITED for none)")(
      "max-nodes", po::value(&max_nodes), "the most nodes a job may use (-1: no limit)")(
      "accounts", po::value(&accounts), "accounts allowed, comma-separated (ALL: every one)")(
      "priority-tier", po::value(&tier), "higher tiers are scheduled first (0 to 65533)")(
      "preempt-mode", po::value(&preempt),
      "off, requeue or cancel: what its jobs suffer when a higher tier needs their nodes")(
      "grace-time", po::value(&grace), "how long a preempted job has after SIGTERM")(
      "backfill", po::value(&backfill),
      "easy, conservative or fcfs (default: corrald's --backfill)")(
      "words", po::value(&words)->multitoken(), "OP [NAME]");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("admin partition", kUsage, args, d, &pos, &vm, &exit)) return exit;
  auto op = AdminOperation("partition", words);
  if (!op) return kExitUsage;
  v1::AdminPartitionRequest req;
  req.set_op(*op);
  auto* p = req.mutable_partition();
  if (words.size() > 1) p->set_name(words[1]);
  p->set_default_time_ms(-1);
  p->set_max_time_ms(-1);
  p->set_max_nodes(-1);
  p->set_priority_tier(1);
  auto set = [&](const char* field) { req.add_set(field); };
  auto time = [&](const char* opt, const std::string& v, bool unlimited_is_none) -> int64_t {
    Result<int64_t> ms = ParseTimeLimitMs(v);
    if (!ms.ok()) {
      std::cerr << "corral admin partition: --" << opt << ": " << ms.status().message() << "\n";
      return -2;
    }
    return *ms == 0 ? (unlimited_is_none ? -1 : 0) : *ms;
  };
  const char* cmd = "admin partition";
  if (vm.count("nodes")) {
    set("nodes");
    if (!SplitList(cmd, "--nodes", nodes, p->mutable_nodes())) return kExitUsage;
  }
  if (vm.count("default")) {
    if (is_default != "yes" && is_default != "no") {
      std::cerr << "corral admin partition: --default: yes or no\n";
      return kExitUsage;
    }
    set("default"), p->set_is_default(is_default == "yes");
  }
  if (vm.count("state")) set("state"), p->set_state(state);
  if (vm.count("default-time")) {
    int64_t ms = time("default-time", default_time, true);
    if (ms == -2) return kExitUsage;
    set("default-time"), p->set_default_time_ms(ms);
  }
  if (vm.count("max-time")) {
    int64_t ms = time("max-time", max_time, true);
    if (ms == -2) return kExitUsage;
    set("max-time"), p->set_max_time_ms(ms);
  }
  if (vm.count("grace-time")) {
    int64_t ms = time("grace-time", grace, false);
    if (ms == -2) return kExitUsage;
    set("grace-time"), p->set_grace_ms(ms);
  }
  if (vm.count("max-nodes")) set("max-nodes"), p->set_max_nodes(max_nodes);
  if (vm.count("accounts")) {
    set("accounts");
    if (accounts != "ALL" && !SplitList(cmd, "--accounts", accounts, p->mutable_accounts())) {
      return kExitUsage;
    }
  }
  if (vm.count("priority-tier")) set("priority-tier"), p->set_priority_tier(tier);
  if (vm.count("preempt-mode")) set("preempt-mode"), p->set_preempt_mode(preempt);
  if (vm.count("backfill")) set("backfill"), p->set_backfill(backfill);
  if (*op != "add" && *op != "modify" && req.set_size() > 0) {
    std::cerr << "corral admin partition " << *op << ": takes no settings\n";
    return kExitUsage;
  }
  Client c(ResolveController(controller));
  v1::AdminPartitionReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::AdminPartition, req, &rep); !s.ok()) {
    return Fail("admin partition", s);
  }
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (int i = 0; i < rep.partitions_size(); ++i) {
      nlohmann::json o = PartitionJson(rep.partitions(i));
      if (i < rep.node_counts_size()) {
        const std::string& nc = rep.node_counts(i);
        o["attached_nodes"] = std::stoi(nc.substr(nc.find('=') + 1));
      }
      arr.push_back(o);
    }
    std::cout << nlohmann::json{{"partitions", arr}}.dump(2) << "\n";
    return kExitOk;
  }
  if (*op != "list") {
    std::cout << "partition " << words[1] << ": " << PastTense(*op) << "\n";
    return kExitOk;
  }
  Table t({"PARTITION", "STATE", "NODES", "ATTACHED", "DEFAULT_TIME", "MAX_TIME", "MAX_NODES",
           "TIER", "PREEMPT", "BACKFILL", "ACCOUNTS"});
  for (int i = 0; i < rep.partitions_size(); ++i) {
    const auto& x = rep.partitions(i);
    std::string list, accts;
    for (const auto& n : x.nodes()) list += (list.empty() ? "" : ",") + n;
    for (const auto& a : x.accounts()) accts += (accts.empty() ? "" : ",") + a;
    std::string count = i < rep.node_counts_size() ? rep.node_counts(i) : "";
    t.Add(x.name() + (x.is_default() ? "*" : ""), x.state(), list,
          count.substr(count.find('=') + 1), Time(x.default_time_ms()), Time(x.max_time_ms()),
          x.max_nodes() < 0 ? std::string("-") : std::to_string(x.max_nodes()),
          std::to_string(x.priority_tier()), x.preempt_mode(),
          x.backfill().empty() ? std::string("corrald") : x.backfill(),
          accts.empty() ? std::string("ALL") : accts);
  }
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace corral::cli
