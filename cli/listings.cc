// corral queue, nodes and acct: the read-only listings.
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/table.h"
#include "common/time.h"
#include "fabric/delimited.h"
#include "fabric/record_json.h"

namespace corral::cli {

namespace {

std::string_view ShortState(const std::string& s) {
  if (s == "PENDING") return "PD";
  if (s == "RUNNING") return "R";
  if (s == "COMPLETED") return "CD";
  if (s == "FAILED") return "F";
  if (s == "CANCELLED") return "CA";
  if (s == "TIMEOUT") return "TO";
  if (s == "NODE_FAIL") return "NF";
  if (s == "PREEMPTED") return "PR";
  if (s == "OUT_OF_MEMORY") return "OOM";
  return s;
}

bool ParseIds(const std::string& cmd, const std::vector<std::string>& in,
              std::vector<int64_t>* out) {
  for (const auto& tok : in) {
    std::stringstream ss(tok);
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (part.empty()) continue;
      char* end = nullptr;
      errno = 0;
      long long v = strtoll(part.c_str(), &end, 10);
      if (*end != '\0' || v <= 0 || errno == ERANGE) {
        std::cerr << "corral " << cmd << ": job id \"" << part << "\" is not a positive integer\n";
        return false;
      }
      out->push_back(v);
    }
  }
  return true;
}

// "-" without GPUs; "verified, 612 TFLOP/s per GPU" (the mean the node measured); else the state.
// The tier, and for checked GPUs their mean figures and how long ago the check was.
std::string GpuCheckText(const v1::NodeInfo& n) {
  if (n.verification().empty()) return "-";
  if ((n.verification() != "verified" && n.verification() != "simulated") ||
      n.gpu_checks_size() == 0) {
    return n.verification();
  }
  double tflops = 0, gbps = 0;
  for (const auto& g : n.gpu_checks()) tflops += g.tflops(), gbps += g.gbps();
  tflops /= n.gpu_checks_size(), gbps /= n.gpu_checks_size();
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s, %.3g TFLOP/s %.3g GB/s per GPU", n.verification().c_str(),
                tflops, gbps);
  std::string out = buf;
  if (n.last_check_ms() > 0) {
    out += ", " + FormatDuration(std::max<int64_t>(WallNowMs() - n.last_check_ms(), 0)) + " ago";
  }
  return out;
}

}  // namespace

bool ParseJobIds(const std::string& cmd, const std::vector<std::string>& in,
                 std::vector<int64_t>* out) {
  return ParseIds(cmd, in, out);
}

int Queue(const Args& args) {
  po::options_description d("Options");
  std::string controller, user;
  std::vector<std::string> ids;
  bool json = false, all = false, expand = false;
  int64_t explain = 0;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "json", po::bool_switch(&json), "print JSON")("all,a", po::bool_switch(&all),
                                                    "include finished jobs")(
      "explain", po::value(&explain)->value_name("JOBID"),
      "why the job waits: its priority factor by factor, its place and expected start")(
      "user,u", po::value(&user), "only this user's jobs")("jobs,j", po::value(&ids)->multitoken(),
                                                           "only these job ids (comma separated)")(
      "array,r", po::bool_switch(&expand),
      "one line per pending array task (by default an array's pending tasks share one line, "
      "ID_[INDICES])");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("queue",
                 "Usage: corral queue [-j IDS] [-u USER] [--all] [-r] [--json]\n"
                 "       corral queue --explain JOBID [--json]\n\n"
                 "Lists pending and running jobs, like squeue.",
                 args, d, nullptr, &vm, &exit)) {
    return exit;
  }
  if (vm.count("explain")) {
    if (explain <= 0) {
      std::cerr << "corral queue: --explain " << explain << ": not a job id\n";
      return kExitUsage;
    }
    return QueueExplain(explain, ResolveController(controller), json);
  }
  v1::ListJobsRequest req;
  std::vector<int64_t> idv;
  if (!ParseIds("queue", ids, &idv)) return kExitUsage;
  for (auto i : idv) req.add_ids(i);
  req.set_include_finished(all);
  req.set_user(user);
  req.set_brief(!json);
  req.set_expand_arrays(expand);
  Client c(ResolveController(controller));
  v1::ListJobsReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::ListJobs, req, &rep); !s.ok()) {
    return Fail("queue", s);
  }
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    DelimitedReader r(rep.info_stream());
    v1::JobInfo j;
    while (r.Next(&j)) arr.push_back(JobJson(j));
    if (r.error()) {
      std::cerr << "corral queue: the controller's reply is malformed after " << arr.size()
                << " job(s)\n";
      return kExitFailed;
    }
    std::cout << nlohmann::json{{"jobs", arr}}.dump(2) << "\n";
    return kExitOk;
  }
  TimeMs now = WallNowMs();
  Table t(
      {"JOBID", "PARTITION", "NAME", "USER", "ST", "TIME", "NODES", "GPUS", "NODELIST(REASON)"});
  // An entry is about as long as its row of text.
  t.Reserve(rep.brief_stream().size() / 48 + 1, 64);
  DelimitedReader r(rep.brief_stream());
  v1::JobBrief j;
  std::string id, where;
  while (r.Next(&j)) {
    TimeMs el = j.start_ms() > 0 ? (j.end_ms() > 0 ? j.end_ms() : now) - j.start_ms() : 0;
    if (j.state() == "PENDING") {
      where.assign("(").append(j.reason()).append(")");
    } else {
      where = j.nodelist();
    }
    if (j.array_job_id() == 0) {
      id = std::to_string(j.id());
    } else if (!j.array_tasks().empty()) {
      id = std::to_string(j.array_job_id()).append("_[").append(j.array_tasks()).append("]");
    } else {
      id = std::to_string(j.array_job_id()).append("_").append(std::to_string(j.array_task_id()));
    }
    std::string_view name = j.name();
    t.Add(id, j.partition().empty() ? std::string_view("default") : j.partition(),
          name.substr(0, 24), j.user(), ShortState(j.state()), FormatDuration(el),
          std::to_string(j.nodes()), j.gpus().empty() ? std::string_view("-") : j.gpus(), where);
  }
  t.Print(std::cout);
  if (r.error()) {
    std::cerr << "corral queue: the controller's reply is malformed after " << t.rows()
              << " job(s)\n";
    return kExitFailed;
  }
  return kExitOk;
}

int Nodes(const Args& args) {
  po::options_description d("Options");
  std::string controller;
  bool json = false;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "json", po::bool_switch(&json), "print JSON");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("nodes",
                 "Usage: corral nodes [--json]\n\nLists nodes, like sinfo -N. A node that declares "
                 "GPUs is 'verifying' until its GPUs pass the check it runs when it attaches "
                 "(GPU_CHECK: verified, or simulated on a demo cluster), and 'fail' with the "
                 "reason when they do not; neither gets jobs.",
                 args, d, nullptr, &vm, &exit)) {
    return exit;
  }
  Client c(ResolveController(controller));
  v1::ListNodesReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::ListNodes, v1::ListNodesRequest(), &rep); !s.ok()) {
    return Fail("nodes", s);
  }
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& n : rep.nodes()) arr.push_back(NodeJson(n));
    std::cout << nlohmann::json{{"nodes", arr}}.dump(2) << "\n";
    return kExitOk;
  }
  // GPU_CHECK and REASON last: a failed check and an admin's hold carry their reasons.
  Table t({"NODE", "LABEL", "STATE", "PARTITIONS", "CPUS(A/T)", "MEM_MIB(A/T)", "GPUS(A/T)",
           "GPU_MODELS", "NUMA", "GPU_CHECK", "REASON"});
  for (const auto& n : rep.nodes()) {
    const auto& p = n.profile();
    std::map<std::string, int> models;
    for (const auto& g : p.gpus()) models[g.model()]++;
    std::string m;
    for (const auto& [k, v] : models) m += (m.empty() ? "" : ",") + k + ":" + std::to_string(v);
    std::string parts;
    for (const auto& x : n.partitions()) parts += (parts.empty() ? "" : ",") + x;
    t.Add(p.name(), n.label().empty() ? "-" : n.label(), n.state(), parts.empty() ? "-" : parts,
          std::to_string(n.alloc_cpus()) + "/" + std::to_string(p.cpus()),
          std::to_string(n.alloc_mem_mib()) + "/" + std::to_string(p.mem_mib()),
          std::to_string(n.alloc_gpus()) + "/" + std::to_string(p.gpus_size()), m.empty() ? "-" : m,
          std::to_string(p.numa_nodes()), GpuCheckText(n),
          n.has_hold() ? n.hold().reason() : std::string("-"));
  }
  t.Print(std::cout);
  return kExitOk;
}

int Acct(const Args& args) {
  po::options_description d("Options");
  std::string controller, user;
  std::vector<std::string> ids;
  bool json = false;
  d.add_options()("controller", po::value(&controller), "corrald address")(
      "json", po::bool_switch(&json), "print JSON")("jobs,j", po::value(&ids)->multitoken(),
                                                    "only these job ids (comma separated)")(
      "user,u", po::value(&user), "only this user's jobs");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs("acct",
                 "Usage: corral acct [-j IDS] [-u USER] [--json]\n\n"
                 "Shows finished jobs from the HDF5 accounting table, like sacct.",
                 args, d, nullptr, &vm, &exit)) {
    return exit;
  }
  v1::AcctRequest req;
  std::vector<int64_t> idv;
  if (!ParseIds("acct", ids, &idv)) return kExitUsage;
  for (auto i : idv) req.add_ids(i);
  req.set_user(user);
  Client c(ResolveController(controller));
  v1::AcctReply rep;
  if (Status s = c.Call(&v1::Controller::Stub::Accounting, req, &rep); !s.ok()) {
    return Fail("acct", s);
  }
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : rep.records()) arr.push_back(AcctJson(r));
    std::cout << nlohmann::json{{"jobs", arr}}.dump(2) << "\n";
    return kExitOk;
  }
  Table t({"JOBID", "NAME", "USER", "STATE", "EXITCODE", "ELAPSED", "NODES", "NODELIST", "CPUS",
           "GPUS", "CPU_TIME"});
  for (const auto& r : rep.records()) {
    TimeMs el = r.start_ms() > 0 && r.end_ms() > r.start_ms() ? r.end_ms() - r.start_ms() : 0;
    t.Add(std::to_string(r.job_id()), r.name().substr(0, 24), r.user(), r.state(),
          std::to_string(r.exit_code()), FormatDuration(el), std::to_string(r.nnodes()),
          r.nodelist().empty() ? "-" : r.nodelist(), std::to_string(r.ncpus()),
          std::to_string(r.ngpus()), FormatDuration(r.cpu_ms()));
  }
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace corral::cli
