// corral admin token create|list|revoke: the credentials corrald issues (DESIGN.md "Security").
// A user's token carries a role; a join token lets providers' machines attach.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/table.h"
#include "common/duration.h"
#include "common/time.h"

namespace corral::cli {

namespace {

constexpr const char* kUsage =
    "Usage: corral admin token create --user U [--role user|operator|admin] [--ttl T]\n"
    "       corral admin token create --role join [--uses N] [--fleet N] [--ttl T]\n"
    "       corral admin token list [--json]\n"
    "       corral admin token revoke ID\n\n"
    "create prints the token once; corrald keeps only its hash. A user sets it as CORRAL_TOKEN\n"
    "(with CORRAL_CA, the cluster's ca.pem). Roles: user (their own jobs), operator (also\n"
    "others' jobs, and draining nodes), admin (everything). A join token attaches machines:\n"
    "corral-node attach --controller HOST:PORT --join-token T. It is spent after --uses\n"
    "attaches (default 1) and expires after --ttl (default 1h for join tokens, never for\n"
    "others). --ttl: 90s, 30m, 12h, 7d, or Slurm's D-HH:MM:SS. Admins only.";

// "90s", "30m", "12h", "7d", or a Slurm duration; seconds, or -1.
int64_t ParseTtl(const std::string& v) {
  if (v.size() >= 2 && v.find_first_not_of("0123456789") == v.size() - 1) {
    int64_t n = 0;
    try {
      n = std::stoll(v.substr(0, v.size() - 1));
    } catch (...) {
      return -1;
    }
    const char u = v.back();
    const int64_t mult = u == 's' ? 1 : u == 'm' ? 60 : u == 'h' ? 3600 : u == 'd' ? 86400 : 0;
    if (mult == 0 || n <= 0 || n > (int64_t{1} << 40) / mult) return -1;
    return n * mult;
  }
  int64_t ms = 0;
  if (ParseDurationMs(v, &ms) != DurationParse::kOk || ms <= 0) return -1;
  return ms / 1000;
}

nlohmann::json TokenJson(const v1::AccessToken& t) {
  return {{"id", t.id()},
          {"user", t.user()},
          {"role", t.role()},
          {"created", FormatTime(t.created_ms())},
          {"expires", t.expires_ms() ? FormatTime(t.expires_ms()) : "never"},
          {"revoked", t.revoked()},
          {"uses_left", t.uses_left()},
          {"fleet", t.fleet()},
          {"by", t.by()},
          {"comment", t.comment()}};
}

}  // namespace

int AdminToken(const Args& args) {
  po::options_description d("Options");
  std::string controller, user, role, ttl, comment;
  int uses = 0, fleet = 0;
  std::vector<std::string> words;
  bool json = false;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "user", po::value(&user), "create: whose token it is")(
      "role", po::value(&role)->default_value("user"),
      "create: user, operator, admin, or join (a node's)")("ttl", po::value(&ttl),
                                                           "create: how long it is valid")(
      "uses", po::value(&uses), "create --role join: how many machines may attach with it")(
      "fleet", po::value(&fleet),
      "create --role join: each attach may bring this many simulated nodes (corral-node "
      "--simulate)")("comment", po::value(&comment), "create: a note kept with it")(
      "json", po::bool_switch(&json), "print JSON")("words", po::value(&words)->multitoken(),
                                                    "OP [ID]");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("admin token", kUsage, args, d, &pos, &vm, &exit)) return exit;
  if (words.empty()) {
    std::cerr << "corral admin token: give an operation: create, list or revoke\n";
    return kExitUsage;
  }
  const std::string& op = words[0];
  v1::AdminTokenRequest req;
  req.set_op(op);
  if (op == "create") {
    if (words.size() > 1) {
      std::cerr << "corral admin token create: takes no arguments (\"" << words[1].substr(0, 32)
                << "\"); give --user and --role\n";
      return kExitUsage;
    }
    if (role != "join" && user.empty()) {
      std::cerr << "corral admin token create: --user: whose token is it?\n";
      return kExitUsage;
    }
    if (!ttl.empty()) {
      int64_t s = ParseTtl(ttl);
      if (s < 0) {
        std::cerr << "corral admin token create: --ttl " << ttl.substr(0, 32)
                  << ": not a duration (90s, 30m, 12h, 7d or D-HH:MM:SS)\n";
        return kExitUsage;
      }
      req.set_ttl_s(s);
    }
    req.set_user(user);
    req.set_role(role);
    req.set_uses(uses);
    req.set_fleet(fleet);
    req.set_comment(comment);
  } else if (op == "revoke") {
    if (words.size() != 2) {
      std::cerr << "corral admin token revoke: give one token id (corral admin token list)\n";
      return kExitUsage;
    }
    req.set_id(words[1]);
  } else if (op == "list") {
    if (words.size() > 1) {
      std::cerr << "corral admin token list: takes no arguments\n";
      return kExitUsage;
    }
  } else {
    std::cerr << "corral admin token: unknown operation \"" << op.substr(0, 32)
              << "\" (create, list or revoke)\n";
    return kExitUsage;
  }
  if (op != "create") {
    for (const char* f : {"user", "ttl", "uses", "fleet", "comment"}) {
      if (vm.count(f)) {
        std::cerr << "corral admin token " << op << ": --" << f << " is for create\n";
        return kExitUsage;
      }
    }
  }
  Client c(ResolveController(controller));
  v1::AdminTokenReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::AdminToken, req, &rep); !s.ok()) {
    return Fail("admin token", s);
  }
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : rep.tokens()) list.push_back(TokenJson(t));
    nlohmann::json out = {{"tokens", list}};
    if (!rep.token().empty()) out["token"] = rep.token();
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (op == "create") {
    // The secret alone on stdout, for $(...); what it is on stderr.
    std::cout << rep.token() << "\n";
    if (rep.tokens_size() > 0) {
      const auto& t = rep.tokens(0);
      std::cerr << "token " << t.id() << ": " << t.role()
                << (t.user().empty() ? "" : " for " + t.user()) << ", expires "
                << (t.expires_ms() ? FormatTime(t.expires_ms()) : "never")
                << (t.role() == "join" ? ", " + std::to_string(t.uses_left()) + " attach(es)" : "")
                << ". It is not shown again.\n";
    }
    return kExitOk;
  }
  if (op == "revoke") {
    std::cout << "token " << req.id() << ": revoked\n";
    return kExitOk;
  }
  Table t({"ID", "ROLE", "USER", "CREATED", "EXPIRES", "STATE", "USES_LEFT", "BY", "COMMENT"});
  const TimeMs now = WallNowMs();
  for (const auto& x : rep.tokens()) {
    const char* state = x.revoked()                                ? "revoked"
                        : x.expires_ms() && x.expires_ms() < now   ? "expired"
                        : x.role() == "join" && x.uses_left() <= 0 ? "spent"
                                                                   : "valid";
    t.Add(x.id(), x.role(), x.user().empty() ? "-" : x.user(), FormatTime(x.created_ms()),
          x.expires_ms() ? FormatTime(x.expires_ms()) : "never", state,
          x.role() == "join" ? std::to_string(x.uses_left()) : "-", x.by(),
          x.comment().empty() ? "-" : x.comment());
  }
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace corral::cli
