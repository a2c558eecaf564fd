#include "fabric/record_json.h"

#include "common/price.h"
#include "fabric/convert.h"

namespace corral {

nlohmann::json JobJson(const v1::JobInfo& j) {
  const auto& s = j.spec();
  nlohmann::json alloc = nlohmann::json::array();
  for (const auto& a : j.alloc()) {
    alloc.push_back(
        {{"node", a.node()},
         {"cpus", a.cpus()},
         {"mem_mib", a.mem_mib()},
         {"gpus", std::vector<int32_t>(a.gpu_indices().begin(), a.gpu_indices().end())}});
    if (a.gpu_milli() > 0) alloc.back()["gpu_share"] = a.gpu_milli() / 1000.0;
  }
  nlohmann::json deps = nlohmann::json::array();
  for (const auto& d : s.dependencies())
    deps.push_back(d.type() + ":" + std::to_string(d.job_id()));
  nlohmann::json out = {{"job_id", j.id()},
                        {"name", s.name()},
                        {"user", s.user()},
                        {"account", s.account()},
                        {"partition", s.partition()},
                        {"state", j.state()},
                        {"reason", j.reason()},
                        {"nodes", s.nodes()},
                        {"ntasks", s.ntasks()},
                        {"cpus_per_task", s.cpus_per_task()},
                        {"mem_mib", s.mem_mib()},
                        {"gpus", s.gpus()},
                        {"gpus_per_node", s.gpus_per_node()},
                        {"gpu_model", s.gpu_model()},
                        {"time_limit_ms", s.time_limit_ms()},
                        {"submit_ms", j.submit_ms()},
                        {"start_ms", j.start_ms()},
                        {"end_ms", j.end_ms()},
                        {"exit_code", j.exit_code()},
                        {"nodelist", j.nodelist()},
                        {"stdout", j.stdout_path()},
                        {"stderr", j.stderr_path()},
                        {"workdir", s.workdir()},
                        {"allocation", alloc}};
  if (s.gpu_milli() > 0) out["gpu_share"] = s.gpu_milli() / 1000.0;  // of one GPU
  out["gpu_choice"] = s.gpu_choice().empty() ? "any" : s.gpu_choice();
  if (s.max_price_micro() > 0) out["max_price"] = FormatPrice(s.max_price_micro());
  out["kind"] = JobKindName(InferKind(FromProto(s, /*with_env=*/false)));  // given or inferred
  out["array_job_id"] = s.array_job_id();
  out["array_task_id"] = s.array_job_id() > 0 ? s.array_task_id() : -1;
  // The entry stands for these pending tasks of the array (without `corral queue --array`).
  if (!j.array_tasks().empty()) out["array_tasks"] = j.array_tasks();
  out["hold"] = s.hold();
  out["dependencies"] = deps;
  out["interactive"] = s.interactive();
  out["requeue"] = !s.no_requeue();
  out["restarts"] = j.restarts();
  out["nice"] = s.nice();
  out["qos"] = s.qos().empty() ? "normal" : s.qos();
  out["expected_start_ms"] = j.expected_start_ms();
  if (j.has_usage()) {  // what its processes used, from its nodes' cgroups
    out["usage"] = {{"cpu_ms", j.usage().cpu_ms()},
                    {"rss_bytes", j.usage().rss_bytes()},
                    {"max_rss_bytes", j.usage().max_rss_bytes()},
                    {"sampled_ms", j.usage().sampled_ms()}};
  }
  if (j.preempted_by() != 0) {  // running, and being preempted
    out["preempted_by"] = j.preempted_by();
    out["preempt_mode"] = j.preempt_mode();
    out["preempt_deadline_ms"] = j.preempt_deadline_ms();
  }
  return out;
}

nlohmann::json HoldJson(const v1::NodeHold& h) {
  return {{"node", h.node()},
          {"state", h.state()},
          {"reason", h.reason()},
          {"since_ms", h.since_ms()},
          {"by", h.by()}};
}

nlohmann::json NodeJson(const v1::NodeInfo& n) {
  const auto& p = n.profile();
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : p.gpus()) {
    nlohmann::json j = {{"index", g.index()},
                        {"model", g.model()},
                        {"mem_mib", g.mem_mib()},
                        {"numa", g.numa()},
                        {"pci_bus_id", g.pci_bus_id()}};
    for (const auto& c : n.gpu_checks()) {
      if (c.index() != g.index()) continue;
      j["check_engine"] = c.engine();
      j["check_tflops"] = c.tflops();
      j["check_gbps"] = c.gbps();
      j["check_bound_tflops"] = c.bound_tflops();
    }
    gpus.push_back(std::move(j));
  }
  nlohmann::json terms = nlohmann::json::object();  // the provider's (ProviderTerms)
  if (p.min_price_micro() > 0) terms["min_price"] = FormatPrice(p.min_price_micro());
  if (p.accounts_size() > 0) {
    terms["accounts"] = std::vector<std::string>(p.accounts().begin(), p.accounts().end());
  }
  if (p.max_time_ms() > 0) terms["max_time_ms"] = p.max_time_ms();
  nlohmann::json hold = nullptr;  // an admin's drain or down
  if (n.has_hold()) hold = HoldJson(n.hold());
  return {{"name", p.name()},
          {"label", n.label()},
          {"state", n.state()},
          {"hold", hold},
          {"terms", terms},
          {"cpus", p.cpus()},
          {"cores", p.cores()},
          {"sockets", p.sockets()},
          {"numa_nodes", p.numa_nodes()},
          {"mem_mib", p.mem_mib()},
          {"alloc_cpus", n.alloc_cpus()},
          {"alloc_mem_mib", n.alloc_mem_mib()},
          {"alloc_gpus", n.alloc_gpus()},
          {"last_seen_ms", n.last_seen_ms()},
          {"jobs", std::vector<int64_t>(n.jobs().begin(), n.jobs().end())},
          {"verification", n.verification()},
          {"last_check_ms", n.last_check_ms()},
          {"overlay_ip", p.overlay_ip()},
          {"partitions", std::vector<std::string>(n.partitions().begin(), n.partitions().end())},
          {"gpus", gpus}};
}

nlohmann::json AcctJson(const v1::AcctRecord& r) {
  return {
      {"job_id", r.job_id()},
      {"name", r.name()},
      {"user", r.user()},
      {"account", r.account()},
      {"partition", r.partition()},
      {"nodelist", r.nodelist()},
      {"gpu_models", r.gpu_models()},
      {"state", r.state()},
      {"nnodes", r.nnodes()},
      {"ncpus", r.ncpus()},
      {"ngpus", r.ngpus()},
      {"exit_code", r.exit_code()},
      {"submit_ms", r.submit_ms()},
      {"start_ms", r.start_ms()},
      {"end_ms", r.end_ms()},
      {"elapsed_ms", r.end_ms() > r.start_ms() && r.start_ms() > 0 ? r.end_ms() - r.start_ms() : 0},
      {"cpu_ms", r.cpu_ms()},
      {"gpu_ms", r.gpu_ms()}};
}

}  // namespace corral
