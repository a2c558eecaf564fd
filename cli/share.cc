// corral share (like sshare): the fair-share tree with each account's and user's shares, usage
// and Fair Tree factor. By default the caller's associations and the accounts above them;
// --all shows everyone.
#include <pwd.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/table.h"
#include "common/time.h"

namespace corral::cli {

namespace {

constexpr const char* kUsage =
    "Usage: corral share [--all] [--json]\n\n"
    "NORM_SHARES is an account's or user's shares over its siblings'; EFF_USAGE its usage over\n"
    "its parent's; LEVEL_FS their ratio (inf: no usage yet). FAIRSHARE is the factor its jobs'\n"
    "priority gets (1.0 = served least, relative to its shares). Usage is billing-seconds\n"
    "(CPUs + weighted GPUs, x seconds), decayed by the half-life.";

std::string Ppm(int64_t ppm) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(ppm) / 1e6);
  return buf;
}

std::string Num(double v) {
  if (std::isinf(v)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

int Share(const Args& args) {
  po::options_description d("Options");
  std::string controller;
  bool json = false, all = false;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "all,a", po::bool_switch(&all), "every account and user")("json", po::bool_switch(&json),
                                                                "print JSON");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("share", kUsage, args, d, nullptr, &vm, &exit)) return exit;
  v1::ShareRequest req;
  req.set_all(all);
  if (passwd* pw = getpwuid(getuid())) req.set_user(pw->pw_name);
  Client c(ResolveController(controller));
  v1::ShareReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::Share, req, &rep); !s.ok()) {
    return Fail("share", s);
  }
  if (json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : rep.rows()) {
      rows.push_back({{"depth", r.depth()},
                      {"account", r.account()},
                      {"user", r.user()},
                      {"shares", r.shares()},
                      {"norm_shares", static_cast<double>(r.norm_shares_ppm()) / 1e6},
                      {"usage", r.usage()},
                      {"effective_usage", static_cast<double>(r.effective_usage_ppm()) / 1e6},
                      {"level_fs", std::isinf(r.level_fs()) ? nlohmann::json(nullptr)
                                                            : nlohmann::json(r.level_fs())},
                      {"fairshare", static_cast<double>(r.factor_ppm()) / 1e6}});
    }
    std::cout << nlohmann::json{{"half_life_ms", rep.half_life_ms()}, {"rows", rows}}.dump(2)
              << "\n";
    return kExitOk;
  }
  Table t(
      {"ACCOUNT", "USER", "SHARES", "NORM_SHARES", "USAGE", "EFF_USAGE", "LEVEL_FS", "FAIRSHARE"});
  for (const auto& r : rep.rows()) {
    t.Add(std::string(static_cast<size_t>(r.depth()), ' ') + r.account(), r.user(),
          std::to_string(r.shares()), Ppm(r.norm_shares_ppm()), Num(r.usage()),
          Ppm(r.effective_usage_ppm()), Num(r.level_fs()),
          r.user().empty() ? std::string("") : Ppm(r.factor_ppm()));
  }
  t.Print(std::cout);
  if (rep.rows_size() <= 1) {
    std::cout << "(no accounts: fair share is off; an admin adds them with corral admin account)"
              << "\n";
  }
  return kExitOk;
}

}  // namespace corral::cli
