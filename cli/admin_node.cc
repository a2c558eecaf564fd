// corral admin node drain|down|resume|list (like scontrol update nodename=... state=...):
// an admin's hold on nodes, with its reason.
#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/admin_common.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/table.h"
#include "common/time.h"
#include "fabric/record_json.h"

namespace corral::cli {

namespace {

constexpr const char* kUsage =
    "Usage: corral admin node drain NODES --reason TEXT\n"
    "       corral admin node down NODES --reason TEXT\n"
    "       corral admin node resume NODES\n"
    "       corral admin node forget NAME...\n"
    "       corral admin node list [--json]\n\n"
    "drain: the nodes take no new job; those running finish (state draining, then drained).\n"
    "down: the jobs running there end as on a lost node (requeued where they allow it, else\n"
    "NODE_FAIL), and the nodes take none. resume: back in service. NODES: names, Slurm ranges\n"
    "(gpu[1-4]) or patterns with * and ?, comma-separated; each must name a node. A hold\n"
    "outlives a restart of corrald. forget: the node's certificate stops working (a lost or\n"
    "replaced machine); it attaches again only with a new join token (exact names, admin).";

}  // namespace

int AdminNode(const Args& args) {
  po::options_description d("Options");
  std::string controller, reason;
  std::vector<std::string> words;
  bool json = false;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "json", po::bool_switch(&json), "print JSON")("reason", po::value(&reason),
                                                    "why (drain and down): shown with the node")(
      "words", po::value(&words)->multitoken(), "OP [NODES...]");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("admin node", kUsage, args, d, &pos, &vm, &exit)) return exit;
  if (words.empty()) {
    std::cerr << "corral admin node: give an operation: drain, down, resume, forget or list\n";
    return kExitUsage;
  }
  const std::string& op = words[0];
  if (op != "drain" && op != "down" && op != "resume" && op != "list" && op != "forget") {
    std::cerr << "corral admin node: unknown operation \"" << op.substr(0, 32)
              << "\" (drain, down, resume, forget or list)\n";
    return kExitUsage;
  }
  v1::AdminNodeRequest req;
  req.set_op(op);
  for (size_t i = 1; i < words.size(); ++i) {
    if (!SplitList("admin node", "NODES", words[i], req.mutable_nodes())) return kExitUsage;
  }
  if (op != "list" && req.nodes().empty()) {
    std::cerr << "corral admin node " << op << ": give the nodes to " << op << "\n";
    return kExitUsage;
  }
  if ((op == "drain" || op == "down") && reason.empty()) {
    std::cerr << "corral admin node " << op << ": --reason: say why (it is shown with the node)\n";
    return kExitUsage;
  }
  if ((op == "resume" || op == "list" || op == "forget") && vm.count("reason")) {
    std::cerr << "corral admin node " << op << ": takes no --reason\n";
    return kExitUsage;
  }
  req.set_reason(reason);
  if (passwd* pw = getpwuid(getuid())) req.set_user(pw->pw_name);
  Client c(ResolveController(controller));
  v1::AdminNodeReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::AdminNode, req, &rep); !s.ok()) {
    return Fail("admin node", s);
  }
  if (json) {
    nlohmann::json holds = nlohmann::json::array();
    for (const auto& h : rep.holds()) holds.push_back(HoldJson(h));
    std::cout << nlohmann::json{{"holds", holds},
                                {"changed", std::vector<std::string>(rep.changed().begin(),
                                                                     rep.changed().end())}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  if (op != "list") {
    const char* done = op == "drain"    ? "drained"
                       : op == "down"   ? "set down"
                       : op == "forget" ? "forgotten (its certificate no longer works)"
                                        : "resumed";
    for (const auto& n : rep.changed()) std::cout << "node " << n << ": " << done << "\n";
    if (rep.changed().empty()) std::cout << "nothing to " << op << "\n";
    return kExitOk;
  }
  Table t({"NODE", "HOLD", "SINCE", "BY", "REASON"});
  for (const auto& h : rep.holds()) {
    t.Add(h.node(), h.state(), FormatTime(h.since_ms()), h.by().empty() ? "-" : h.by(), h.reason());
  }
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace corral::cli
