#include "cli/sim_report.h"

#include <cstdio>
#include <fstream>

#include "cli/table.h"

namespace corral::cli {

namespace {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

nlohmann::json SummaryJson(const sim::Summary& s) {
  nlohmann::json never = nlohmann::json::object();
  for (const auto& [why, n] : s.never_ran) never[why] = n;
  nlohmann::json j = {{"jobs", s.jobs},
                      {"ran", s.ran},
                      {"never_ran", never},
                      {"mean_wait_s", s.mean_wait_s},
                      {"median_wait_s", s.median_wait_s},
                      {"p95_wait_s", s.p95_wait_s},
                      {"mean_bounded_slowdown", s.mean_bounded_slowdown},
                      {"utilization", s.utilization},
                      {"makespan_s", s.makespan_s},
                      {"mean_jct_s", s.mean_jct_s},
                      {"limit_from_runtime", s.limit_from_runtime},
                      {"cut_at_limit", s.cut_at_limit},
                      {"fractional_gpus_rounded_up", s.fractional_rounded},
                      {"trace_mean_wait_s", s.trace_mean_wait_s},
                      {"passes", s.passes},
                      {"violations", s.violations},
                      {"violation_examples", s.violation_examples}};
  if (s.gpu_utilization >= 0) j["gpu_utilization"] = s.gpu_utilization;
  return j;
}

double Mean(const std::vector<sim::Summary>& w, double sim::Summary::*field) {
  double t = 0;
  for (const sim::Summary& s : w) t += s.*field;
  return w.empty() ? 0 : t / static_cast<double>(w.size());
}

int64_t Violations(const SimRun& r) {
  int64_t v = r.result.summary.violations;
  for (const sim::Summary& s : r.windows) v += s.violations;
  return v;
}

}  // namespace

nlohmann::json SimJson(const SimInput& in, const std::vector<SimRun>& runs) {
  const sim::Workload& t = *in.trace;
  nlohmann::json groups = nlohmann::json::array();
  for (const sim::NodeGroup& g : in.machine->groups) {
    groups.push_back({{"count", g.count},
                      {"cpus", g.cpus},
                      {"mem_mib", g.mem_mib},
                      {"gpus", g.gpus},
                      {"gpu_model", g.gpu_model}});
  }
  nlohmann::json policies = nlohmann::json::array();
  for (const SimRun& run : runs) {
    nlohmann::json p;
    if (run.windows.empty()) {
      p = SummaryJson(run.result.summary);
    } else {
      nlohmann::json ws = nlohmann::json::array();
      for (size_t i = 0; i < run.windows.size(); ++i) {
        nlohmann::json w = SummaryJson(run.windows[i]);
        w["first_job"] = run.window_first[i];
        w["prefilled"] = run.window_prefill[i];
        ws.push_back(std::move(w));
      }
      p = {{"protocol", "windows"},
           {"mean_bounded_slowdown", Mean(run.windows, &sim::Summary::mean_bounded_slowdown)},
           {"mean_wait_s", Mean(run.windows, &sim::Summary::mean_wait_s)},
           {"utilization", Mean(run.windows, &sim::Summary::utilization)},
           {"violations", Violations(run)},
           {"windows", ws}};
    }
    p["policy"] = run.name;
    p["seconds"] = run.seconds;
    policies.push_back(std::move(p));
  }
  return {{"trace",
           {{"path", in.path},
            {"format", t.format},
            {"lines", t.lines},
            {"jobs", t.jobs.size()},
            {"skipped", t.skipped},
            {"unreplayable", t.unreplayable},
            {"fractional_gpus", t.fractional_gpus},
            {"errors", t.errors}}},
          {"machine",
           {{"nodes", in.machine->Nodes()},
            {"cpus", in.machine->Cpus()},
            {"gpus", in.machine->Gpus()},
            {"groups", groups},
            {"source", in.machine->source}}},
          {"policies", policies}};
}

void PrintSimTable(const SimInput& in, const std::vector<SimRun>& runs, std::ostream& out) {
  const sim::Workload& t = *in.trace;
  out << "trace: " << in.path << " (" << t.format << "): " << t.jobs.size() << " jobs ("
      << t.skipped << " malformed lines skipped, " << t.unreplayable
      << " without a run time or size)\n"
      << "machine: " << in.machine->Describe() << " (" << in.machine->source << ")\n";
  for (const std::string& e : t.errors) out << "  skipped: " << e << "\n";
  const sim::Summary& first = runs[0].windows.empty() ? runs[0].result.summary : runs[0].windows[0];
  if (first.limit_from_runtime > 0) {
    out << "time limits: " << (runs[0].windows.empty() ? "" : "window 1: ")
        << first.limit_from_runtime
        << " jobs have no requested time; their run time is their limit\n";
  }
  if (t.fractional_gpus > 0) {
    out << "fractional GPUs: " << t.fractional_gpus << " jobs ask for a share of one GPU; "
        << (first.fractional_rounded > 0 ? "each is given a whole GPU (--whole-gpus)"
                                         : "each gets that share of a device")
        << "\n";
  }
  if (!runs[0].windows.empty()) {
    out << "protocol: " << runs[0].windows.size() << " windows of " << first.jobs
        << " jobs (RLScheduler, SC'20); figures are means over the windows\n";
    Table tab(
        {"POLICY", "WINDOWS", "MEAN_BSLD", "MEAN_WAIT_S", "UTIL", "PER_WINDOW_BSLD", "SECONDS"});
    for (const SimRun& run : runs) {
      std::string per;
      for (const sim::Summary& s : run.windows) {
        per += (per.empty() ? "" : " ") + Fixed(s.mean_bounded_slowdown, 1);
      }
      tab.Add(run.name, std::to_string(run.windows.size()),
              Fixed(Mean(run.windows, &sim::Summary::mean_bounded_slowdown), 2),
              Fixed(Mean(run.windows, &sim::Summary::mean_wait_s), 1),
              Fixed(Mean(run.windows, &sim::Summary::utilization), 3), per, Fixed(run.seconds, 2));
    }
    tab.Print(out);
  } else {
    const bool gpus = in.machine->Gpus() > 0;
    std::vector<std::string> head = {"POLICY",     "JOBS",        "RAN",
                                     "NEVER",      "MEAN_WAIT_S", "MEDIAN_WAIT_S",
                                     "P95_WAIT_S", "MEAN_BSLD",   "UTIL"};
    if (gpus) head.push_back("GPU_UTIL");
    for (const char* h : {"MAKESPAN_S", "MEAN_JCT_S", "SECONDS"}) head.push_back(h);
    Table tab(head);
    for (const SimRun& run : runs) {
      const sim::Summary& s = run.result.summary;
      std::vector<std::string> row = {run.name,
                                      std::to_string(s.jobs),
                                      std::to_string(s.ran),
                                      std::to_string(s.jobs - s.ran),
                                      Fixed(s.mean_wait_s, 1),
                                      Fixed(s.median_wait_s, 0),
                                      Fixed(s.p95_wait_s, 0),
                                      Fixed(s.mean_bounded_slowdown, 2),
                                      Fixed(s.utilization, 3)};
      if (gpus) row.push_back(Fixed(s.gpu_utilization, 3));
      row.push_back(std::to_string(s.makespan_s));
      row.push_back(Fixed(s.mean_jct_s, 1));
      row.push_back(Fixed(run.seconds, 2));
      tab.AddRow(row);
    }
    tab.Print(out);
    if (first.trace_mean_wait_s >= 0) {
      out << "the trace's own recorded mean wait: " << Fixed(first.trace_mean_wait_s, 1) << " s\n";
    }
  }
  for (const SimRun& run : runs) {
    std::vector<const sim::Summary*> all = {&run.result.summary};
    if (!run.windows.empty()) {
      all.clear();
      for (const sim::Summary& s : run.windows) all.push_back(&s);
    }
    std::map<std::string, int64_t> never;
    std::vector<std::string> examples;
    for (const sim::Summary* s : all) {
      for (const auto& [why, n] : s->never_ran) never[why] += n;
      for (const std::string& v : s->violation_examples) examples.push_back(v);
    }
    for (const auto& [why, n] : never) {
      out << run.name << ": " << n << " never ran: " << why << "\n";
    }
    for (size_t i = 0; i < examples.size() && i < 20; ++i) {
      out << run.name << ": check failed: " << examples[i] << "\n";
    }
  }
}

Status WriteJobsCsv(const std::string& path, const std::vector<SimRun>& runs) {
  std::ofstream out(path);
  out << "policy,id,submit_s,start_s,end_s,procs,gpus,run_s,limit_s,wait_s,never_ran\n";
  for (const SimRun& run : runs) {
    for (const sim::JobOutcome& j : run.result.jobs) {
      out << run.name << "," << j.id << "," << j.submit_s << "," << j.start_s << "," << j.end_s
          << "," << j.procs << "," << j.gpus << "," << j.run_s << "," << j.limit_s << ","
          << (j.start_s >= 0 ? j.start_s - j.submit_s : -1) << ",\"";
      for (char c : j.never_ran) out << (c == '"' ? "\"\"" : std::string(1, c));
      out << "\"\n";
    }
  }
  out.flush();
  if (!out) return Status::Invalid("--jobs-csv " + path + ": could not be written");
  return Status::Ok();
}

Status WriteSvg(const std::string& path, const SimInput& in, const std::vector<SimRun>& runs) {
  std::vector<sim::Series> series;
  for (const SimRun& run : runs) series.push_back({run.name, run.samples});
  sim::ChartOptions co;
  co.title = in.path + " on " + in.machine->Describe();
  if (!runs.empty() && runs[0].windows.size() > 1) {
    co.title += " (" + std::to_string(runs[0].windows.size()) + " windows, back to back)";
  }
  std::ofstream out(path);
  out << sim::RenderChart(series, co);
  out.flush();
  if (!out) return Status::Invalid("--svg " + path + ": could not be written");
  return Status::Ok();
}

}  // namespace corral::cli
