#include "fabric/convert.h"

namespace corral {

void ToProto(const JobSpec& in, v1::JobSpec* out) {
  out->set_name(in.name);
  out->set_user(in.user);
  out->set_account(in.account);
  out->set_partition(in.partition);
  out->set_nodes(in.nodes);
  out->set_ntasks(in.ntasks);
  out->set_cpus_per_task(in.cpus_per_task);
  out->set_mem_mib(in.mem_mib);
  out->set_gpu_model(in.gpu_model);
  out->set_gpus(in.gpus);
  out->set_gpus_per_node(in.gpus_per_node);
  out->set_gpu_milli(in.gpu_milli);
  out->set_gpu_models_in_order(in.gpu_models_in_order);
  out->set_gpu_choice(in.gpu_choice == GpuChoice::kAny ? "" : GpuChoiceName(in.gpu_choice));
  out->set_max_price_micro(in.max_price_micro);
  out->set_kind(JobKindName(in.kind));
  out->set_time_limit_ms(in.time_limit_ms);
  out->set_script(in.script);
  out->set_output(in.output);
  out->set_error(in.error);
  out->set_workdir(in.workdir);
  out->set_submit_dir(in.submit_dir);
  out->clear_array_indices();
  for (int32_t i : in.array_indices) out->add_array_indices(i);
  out->set_array_throttle(in.array_throttle);
  out->set_array_job_id(in.array_job_id);
  out->set_array_task_id(in.array_task_id);
  out->set_hold(in.hold);
  out->set_dependency_any(in.dependency_any);
  out->set_no_requeue(!in.requeue);
  out->set_nice(in.nice);
  out->set_qos(in.qos);
  out->set_reservation(in.reservation);
  out->set_signal(in.signal);
  out->set_signal_secs(in.signal_secs);
  out->set_signal_batch_only(in.signal_batch_only);
  out->set_interactive(in.interactive);
  out->clear_dependencies();
  for (const auto& d : in.dependencies) {
    auto* p = out->add_dependencies();
    p->set_type(d.type);
    p->set_job_id(d.job_id);
  }
  out->clear_het();
  for (const auto& h : in.het) {
    auto* p = out->add_het();
    p->set_nodes(h.nodes);
    p->set_ntasks(h.ntasks);
    p->set_cpus_per_task(h.cpus_per_task);
    p->set_mem_mib(h.mem_mib);
    p->set_gpu_model(h.gpu_model);
    p->set_gpus(h.gpus);
    p->set_gpus_per_node(h.gpus_per_node);
  }
  out->clear_args();
  for (const auto& a : in.args) out->add_args(a);
  out->clear_env();
  for (const auto& [k, v] : in.env) {
    auto* e = out->add_env();
    e->set_key(k);
    e->set_value(v);
  }
}

JobSpec FromProto(const v1::JobSpec& in, bool with_env) {
  JobSpec s;
  s.name = in.name();
  s.user = in.user();
  s.account = in.account();
  s.partition = in.partition();
  s.nodes = in.nodes();
  s.ntasks = in.ntasks();
  s.cpus_per_task = in.cpus_per_task();
  s.mem_mib = in.mem_mib();
  s.gpu_model = in.gpu_model();
  s.gpus = in.gpus();
  s.gpus_per_node = in.gpus_per_node();
  s.gpu_milli = in.gpu_milli();
  s.gpu_models_in_order = in.gpu_models_in_order();
  ParseGpuChoice(in.gpu_choice(), &s.gpu_choice);  // unknown: any (Submit refuses it first)
  s.max_price_micro = in.max_price_micro();
  ParseJobKind(in.kind(), &s.kind);
  s.time_limit_ms = in.time_limit_ms();
  s.script = in.script();
  s.output = in.output();
  s.error = in.error();
  s.workdir = in.workdir();
  s.submit_dir = in.submit_dir();
  if (with_env) {
    for (const auto& e : in.env()) s.env.emplace_back(e.key(), e.value());
    s.args.assign(in.args().begin(), in.args().end());
  }
  s.array_indices.assign(in.array_indices().begin(), in.array_indices().end());
  s.array_throttle = in.array_throttle();
  s.array_job_id = in.array_job_id();
  // proto3 has no "unset": a task id only means something for an array task.
  s.array_task_id = in.array_job_id() > 0 ? in.array_task_id() : -1;
  s.hold = in.hold();
  s.dependency_any = in.dependency_any();
  s.requeue = !in.no_requeue();
  s.nice = in.nice();
  s.qos = in.qos();
  s.reservation = in.reservation();
  s.signal = in.signal();
  s.signal_secs = in.signal_secs();
  s.signal_batch_only = in.signal_batch_only();
  s.interactive = in.interactive();
  for (const auto& d : in.dependencies()) s.dependencies.push_back({d.type(), d.job_id()});
  for (const auto& h : in.het()) {
    s.het.push_back({h.nodes(), h.ntasks(), h.cpus_per_task(), h.mem_mib(), h.gpu_model(), h.gpus(),
                     h.gpus_per_node()});
  }
  return s;
}

void ToProto(const NodeProfile& in, v1::NodeProfile* out) {
  out->set_name(in.name);
  out->set_cpus(in.cpus);
  out->set_cores(in.cores);
  out->set_sockets(in.sockets);
  out->set_numa_nodes(in.numa_nodes);
  out->set_mem_mib(in.mem_mib);
  out->clear_gpus();
  for (const auto& g : in.gpus) {
    auto* p = out->add_gpus();
    p->set_index(g.index);
    p->set_model(g.model);
    p->set_mem_mib(g.mem_mib);
    p->set_numa(g.numa);
    p->set_pci_bus_id(g.pci_bus_id);
    if (g.pcie_switch >= 0) p->set_pcie_switch(g.pcie_switch);
  }
  out->set_min_price_micro(in.terms.min_price_micro);
  out->clear_accounts();
  for (const auto& a : in.terms.accounts) out->add_accounts(a);
  out->set_max_time_ms(in.terms.max_time_ms);
  out->set_overlay_ip(in.overlay_ip);
}

NodeProfile FromProto(const v1::NodeProfile& in) {
  NodeProfile p;
  p.name = in.name();
  p.cpus = in.cpus();
  p.cores = in.cores();
  p.sockets = in.sockets();
  p.numa_nodes = in.numa_nodes();
  p.mem_mib = in.mem_mib();
  for (const auto& g : in.gpus()) {
    p.gpus.push_back({g.index(), g.model(), g.mem_mib(), g.numa(), g.pci_bus_id()});
    p.gpus.back().pcie_switch = g.has_pcie_switch() && g.pcie_switch() >= 0 ? g.pcie_switch() : -1;
  }
  p.terms.min_price_micro = in.min_price_micro();
  p.terms.accounts.assign(in.accounts().begin(), in.accounts().end());
  p.terms.max_time_ms = in.max_time_ms();
  p.overlay_ip = in.overlay_ip();
  return p;
}

void ToProto(const NodeAllocation& in, v1::NodeAllocation* out) {
  out->set_node(in.node);
  out->set_cpus(in.cpus);
  out->set_mem_mib(in.mem_mib);
  out->clear_gpu_indices();
  for (int32_t i : in.gpu_indices) out->add_gpu_indices(i);
  out->set_component(in.component);
  out->set_gpu_milli(in.gpu_milli);
}

NodeAllocation FromProto(const v1::NodeAllocation& in) {
  NodeAllocation a;
  a.node = in.node();
  a.cpus = in.cpus();
  a.mem_mib = in.mem_mib();
  a.gpu_indices.assign(in.gpu_indices().begin(), in.gpu_indices().end());
  a.component = in.component();
  a.gpu_milli = in.gpu_milli();
  return a;
}

}  // namespace corral
