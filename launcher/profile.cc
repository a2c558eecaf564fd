#include "launcher/profile.h"

#include <dlfcn.h>
#include <hwloc.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <tuple>

namespace corral {
namespace {

constexpr uint16_t kNvidiaVendor = 0x10de;
constexpr int64_t kMaxSyntheticObjects = int64_t{1} << 20;

struct TopologyDeleter {
  void operator()(hwloc_topology_t t) const { hwloc_topology_destroy(t); }
};
using Topology = std::unique_ptr<hwloc_topology, TopologyDeleter>;

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 200; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + (s.size() > 200 ? "...\"" : "\"");
}

Status TopologyError(const std::string& topology, const std::string& why) {
  return Status::Invalid("--topology=" + Quoted(topology) + ": " + why);
}

// Product of the level counts ("pack:2 core:8" -> 16) of a synthetic description, capped just
// above kMaxSyntheticObjects; attributes in parentheses are skipped.
int64_t SyntheticSize(const std::string& s) {
  int64_t product = 1;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && depth > 0) --depth;
    if (depth != 0 || s[i] != ':') continue;
    int64_t n = 0;
    for (size_t j = i + 1; j < s.size() && s[j] >= '0' && s[j] <= '9'; ++j) {
      n = std::min<int64_t>(n * 10 + (s[j] - '0'), kMaxSyntheticObjects + 1);
    }
    product = std::min<int64_t>(product * std::max<int64_t>(n, 1), kMaxSyntheticObjects + 1);
  }
  return product;
}

// Points hwloc at the XML file or synthetic description in `topology` (non-empty).
Status SetSource(hwloc_topology_t t, const std::string& topology) {
  if (topology.find('\0') != std::string::npos) {
    return TopologyError(topology, "contains a NUL byte");
  }
  std::error_code ec;
  std::filesystem::path path(topology);
  if (std::filesystem::exists(path, ec)) {
    if (!std::filesystem::is_regular_file(path, ec)) {
      return TopologyError(topology, "not a regular file (expected an hwloc XML file)");
    }
    FILE* f = std::fopen(topology.c_str(), "r");
    if (f == nullptr) {
      return TopologyError(topology, std::string("cannot read the file: ") + std::strerror(errno));
    }
    std::fclose(f);
    if (std::filesystem::file_size(path, ec) == 0 && !ec) {
      return TopologyError(topology, "the file is empty (expected an hwloc XML file)");
    }
    if (hwloc_topology_set_xml(t, topology.c_str()) != 0) {
      return TopologyError(topology, std::string("not a valid hwloc XML file (hwloc: ") +
                                         std::strerror(errno) + ")");
    }
    return Status::Ok();
  }
  bool looks_like_path = topology.find('/') != std::string::npos ||
                         (topology.size() >= 4 && topology.ends_with(".xml"));
  if (looks_like_path) {
    return TopologyError(topology, "no such file (expected an hwloc XML file)");
  }
  if (SyntheticSize(topology) > kMaxSyntheticObjects) {
    return TopologyError(topology, "the synthetic description has more than " +
                                       std::to_string(kMaxSyntheticObjects) + " objects");
  }
  if (hwloc_topology_set_synthetic(t, topology.c_str()) != 0) {
    return TopologyError(topology,
                         "not a file, and not a valid hwloc synthetic description such as "
                         "\"pack:2 numa:1(memory=64GiB) core:8 pu:2\" (each level TYPE:COUNT, "
                         "COUNT >= 1, ending with pu)");
  }
  return Status::Ok();
}

Result<Topology> LoadTopology(const std::string& topology) {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) {
    return Status::Internal(std::string("hwloc_topology_init failed: ") + std::strerror(errno));
  }
  Topology t(raw);
  hwloc_topology_set_io_types_filter(t.get(), HWLOC_TYPE_FILTER_KEEP_ALL);
  if (!topology.empty()) {
    Status s = SetSource(t.get(), topology);
    if (!s.ok()) return s;
  }
  if (hwloc_topology_load(t.get()) != 0) {
    int err = errno;
    if (topology.empty()) {
      return Status::Internal(std::string("hwloc cannot read this machine's topology: ") +
                              std::strerror(err));
    }
    return TopologyError(
        topology, std::string("hwloc cannot load it (invalid hwloc XML?): ") + std::strerror(err));
  }
  return t;
}

// ---- GPUs ------------------------------------------------------------------------------

std::string BusId(hwloc_obj_t pci) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", pci->attr->pcidev.domain,
                pci->attr->pcidev.bus, pci->attr->pcidev.dev, pci->attr->pcidev.func);
  return buf;
}

hwloc_obj_t PciAncestor(hwloc_obj_t obj) {
  for (hwloc_obj_t p = obj; p != nullptr; p = p->parent) {
    if (p->type == HWLOC_OBJ_PCI_DEVICE) return p;
    if (!hwloc_obj_type_is_io(p->type)) break;
  }
  return nullptr;
}

// The PCIe switch a device sits under: the top PCI-to-PCI bridge of its branch (the root port,
// whose subtree holds the switch), by its hwloc global index; -1 when it hangs off the host
// bridge directly.
int64_t SwitchOf(hwloc_obj_t pci) {
  int64_t top = -1;
  for (hwloc_obj_t p = pci == nullptr ? nullptr : pci->parent; p && hwloc_obj_type_is_io(p->type);
       p = p->parent) {
    if (p->type == HWLOC_OBJ_BRIDGE && p->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI) {
      top = static_cast<int64_t>(p->gp_index);
    }
  }
  return top;
}

bool IsNvidia(hwloc_obj_t pci) {
  return pci != nullptr && pci->attr->pcidev.vendor_id == kNvidiaVendor;
}

// Logical index of the first NUMA node near `obj`; -1 when it is near the whole machine
// and the machine has several NUMA nodes.
int32_t NumaOf(hwloc_topology_t t, hwloc_obj_t obj) {
  hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(t, obj);
  if (anc == nullptr || anc->nodeset == nullptr || hwloc_bitmap_iszero(anc->nodeset)) return -1;
  hwloc_obj_t root = hwloc_get_root_obj(t);
  if (hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE) > 1 &&
      hwloc_bitmap_isequal(anc->nodeset, root->nodeset)) {
    return -1;
  }
  int os = hwloc_bitmap_first(anc->nodeset);
  hwloc_obj_t node = os < 0 ? nullptr : hwloc_get_numanode_obj_by_os_index(t, os);
  return node == nullptr ? -1 : static_cast<int32_t>(node->logical_index);
}

std::string FallbackModel(hwloc_obj_t pci) {
  if (pci == nullptr) return "nvidia";
  char buf[16];
  std::snprintf(buf, sizeof buf, "nvidia-%04x", pci->attr->pcidev.device_id);
  return buf;
}

// A GPU seen in the topology, with the key that orders it among the others.
struct Found {
  std::tuple<int64_t, std::string> order;
  GpuDevice dev;
  int64_t pcie_switch = -1;  // SwitchOf, numbered within the node once all are found
};

GpuDevice FromObject(hwloc_topology_t t, hwloc_obj_t obj, hwloc_obj_t pci) {
  GpuDevice g;
  const char* model = obj == nullptr ? nullptr : hwloc_obj_get_info_by_name(obj, "GPUModel");
  g.model = model == nullptr ? "" : NormalizeGpuModel(model);
  if (g.model.empty()) g.model = FallbackModel(pci);
  const char* mem =
      obj == nullptr ? nullptr : hwloc_obj_get_info_by_name(obj, "CUDAGlobalMemorySize");
  if (mem != nullptr) {
    char* end = nullptr;
    long long kib = std::strtoll(mem, &end, 10);
    if (end != mem && *end == '\0' && kib > 0) g.mem_mib = kib / 1024;
  }
  if (g.mem_mib == 0) g.mem_mib = KnownGpuMemMib(g.model);
  g.numa = NumaOf(t, obj != nullptr ? obj : pci);
  if (pci != nullptr) g.pci_bus_id = BusId(pci);
  return g;
}

bool IsCudaOsdev(hwloc_obj_t obj) {
  if (obj->attr->osdev.type != HWLOC_OBJ_OSDEV_COPROC) return false;
  if (obj->subtype != nullptr && strcasecmp(obj->subtype, "CUDA") == 0) return true;
  const char* kind = hwloc_obj_get_info_by_name(obj, "CoProcType");  // hwloc < 2.5
  return kind != nullptr && strcasecmp(kind, "CUDA") == 0;
}

// The N of "cudaN", or a large number when the name has another form.
int64_t CudaOrdinal(const char* name) {
  if (name == nullptr || strncasecmp(name, "cuda", 4) != 0 || name[4] == '\0') return 1 << 30;
  int64_t n = 0;
  for (const char* p = name + 4; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9' || n > (1 << 20)) return 1 << 30;
    n = n * 10 + (*p - '0');
  }
  return n;
}

// NVML, loaded at run time: the few entry points we use, declared here (no nvml.h).
class Nvml {
 public:
  struct Memory {
    unsigned long long total, free, used;
  };
  Nvml() {
    lib_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib_ == nullptr) return;
    init_ = reinterpret_cast<int (*)()>(dlsym(lib_, "nvmlInit_v2"));
    shutdown_ = reinterpret_cast<int (*)()>(dlsym(lib_, "nvmlShutdown"));
    by_bus_ = reinterpret_cast<int (*)(const char*, void**)>(
        dlsym(lib_, "nvmlDeviceGetHandleByPciBusId_v2"));
    name_ = reinterpret_cast<int (*)(void*, char*, unsigned)>(dlsym(lib_, "nvmlDeviceGetName"));
    mem_ = reinterpret_cast<int (*)(void*, Memory*)>(dlsym(lib_, "nvmlDeviceGetMemoryInfo"));
    ok_ = init_ && shutdown_ && by_bus_ && name_ && mem_ && init_() == 0;
  }
  ~Nvml() {
    if (ok_) shutdown_();
    if (lib_ != nullptr) dlclose(lib_);
  }
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // Fills model and memory of `g` from NVML, looked up by PCI bus id; false if unknown.
  bool Fill(GpuDevice* g) {
    void* dev = nullptr;
    if (!ok_ || g->pci_bus_id.empty() || by_bus_(g->pci_bus_id.c_str(), &dev) != 0) return false;
    char name[96] = {};
    if (name_(dev, name, sizeof name - 1) == 0) {
      std::string model = NormalizeGpuModel(name);
      if (!model.empty()) g->model = model;
    }
    Memory m{};
    if (mem_(dev, &m) == 0 && m.total > 0) g->mem_mib = static_cast<int64_t>(m.total >> 20);
    return true;
  }

 private:
  void* lib_ = nullptr;
  bool ok_ = false;
  int (*init_)() = nullptr;
  int (*shutdown_)() = nullptr;
  int (*by_bus_)(const char*, void**) = nullptr;
  int (*name_)(void*, char*, unsigned) = nullptr;
  int (*mem_)(void*, Memory*) = nullptr;
};

std::vector<GpuDevice> FindGpus(hwloc_topology_t t) {
  std::vector<Found> found;
  // 1. CUDA OS devices.
  for (hwloc_obj_t o = hwloc_get_next_osdev(t, nullptr); o; o = hwloc_get_next_osdev(t, o)) {
    if (IsCudaOsdev(o)) {
      found.push_back(
          {{CudaOrdinal(o->name), ""}, FromObject(t, o, PciAncestor(o)), SwitchOf(PciAncestor(o))});
    }
  }
  // 2. GPU OS devices (NVML, OpenCL, DRM...) of NVIDIA PCI devices, one per PCI device,
  //    preferring one that names the model.
  if (found.empty()) {
    std::vector<std::pair<hwloc_obj_t, hwloc_obj_t>> best;  // (pci, osdev)
    for (hwloc_obj_t o = hwloc_get_next_osdev(t, nullptr); o; o = hwloc_get_next_osdev(t, o)) {
      hwloc_obj_t pci = PciAncestor(o);
      if (o->attr->osdev.type != HWLOC_OBJ_OSDEV_GPU || !IsNvidia(pci)) continue;
      auto it = std::find_if(best.begin(), best.end(), [&](auto& b) { return b.first == pci; });
      if (it == best.end()) {
        best.emplace_back(pci, o);
      } else if (hwloc_obj_get_info_by_name(it->second, "GPUModel") == nullptr) {
        it->second = o;
      }
    }
    for (auto& [pci, o] : best) {
      found.push_back({{0, BusId(pci)}, FromObject(t, o, pci), SwitchOf(pci)});
    }
  }
  // 3. Bare NVIDIA display/3D controllers.
  if (found.empty()) {
    for (hwloc_obj_t p = hwloc_get_next_pcidev(t, nullptr); p; p = hwloc_get_next_pcidev(t, p)) {
      uint16_t cls = p->attr->pcidev.class_id;
      if (IsNvidia(p) && (cls == 0x0300 || cls == 0x0302)) {
        found.push_back({{0, BusId(p)}, FromObject(t, nullptr, p), SwitchOf(p)});
      }
    }
    if (!found.empty() && hwloc_topology_is_thissystem(t)) {
      Nvml nvml;
      for (Found& f : found) nvml.Fill(&f.dev);
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Found& a, const Found& b) { return a.order < b.order; });
  std::vector<GpuDevice> gpus;
  std::vector<int64_t> switches;  // hwloc's indices, in the order first met
  for (Found& f : found) {
    f.dev.index = static_cast<int32_t>(gpus.size());
    if (f.pcie_switch >= 0) {
      auto it = std::find(switches.begin(), switches.end(), f.pcie_switch);
      f.dev.pcie_switch = static_cast<int32_t>(it - switches.begin());
      if (it == switches.end()) switches.push_back(f.pcie_switch);
    }
    gpus.push_back(std::move(f.dev));
  }
  return gpus;
}

}  // namespace

Result<std::string> NodeName(const std::string& name) {
  std::string n = name;
  if (n.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) {
      return Status::Internal(std::string("cannot read this host's name: ") + std::strerror(errno));
    }
    n = host;
  }
  if (n.empty() || n.size() > 253) {
    return Status::Invalid("--name=" + Quoted(n) + ": a node name has 1..253 characters");
  }
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) {
      return Status::Invalid("--name=" + Quoted(n) +
                             ": a node name may hold only letters, digits, '-', '_' and '.'");
    }
  }
  return n;
}

Result<NodeProfile> BuildProfile(const ProfileOptions& opts) {
  Result<std::string> name = NodeName(opts.name);
  if (!name.ok()) return name.status();
  Result<Topology> loaded = LoadTopology(opts.topology);
  if (!loaded.ok()) return loaded.status();
  hwloc_topology_t t = loaded->get();

  NodeProfile p;
  p.name = std::move(name).value();
  p.cpus = std::max(0, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU));
  p.cores = std::max(0, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE));
  p.sockets = std::max(0, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE));
  p.numa_nodes = std::max(0, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE));
  if (p.cpus < 1) {
    return opts.topology.empty() ? Status::Internal("hwloc found no processors on this machine")
                                 : TopologyError(opts.topology, "the topology has no processors");
  }
  if (p.cores == 0) p.cores = p.cpus;
  if (p.sockets == 0) p.sockets = 1;
  if (p.numa_nodes == 0) p.numa_nodes = 1;

  uint64_t bytes = 0;
  for (hwloc_obj_t n = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, nullptr); n;
       n = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, n)) {
    bytes += n->attr->numanode.local_memory;
  }
  if (bytes == 0) bytes = hwloc_get_root_obj(t)->total_memory;
  p.mem_mib = static_cast<int64_t>(bytes >> 20);

  if (opts.gpus.empty()) {
    p.gpus = FindGpus(t);
  } else {
    Result<std::vector<GpuDevice>> gpus = ParseGpuList(opts.gpus, p.numa_nodes);
    if (!gpus.ok()) return gpus.status();
    p.gpus = std::move(gpus).value();
  }
  return p;
}

Result<std::vector<std::vector<int32_t>>> NumaCpus(const std::string& topology) {
  Result<Topology> loaded = LoadTopology(topology);
  if (!loaded.ok()) return loaded.status();
  hwloc_topology_t t = loaded->get();
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(t);
  auto pus_of = [&](hwloc_const_cpuset_t set) {
    std::vector<int32_t> pus;
    hwloc_bitmap_t in = hwloc_bitmap_alloc();
    hwloc_bitmap_and(in, set, allowed);
    for (int i = hwloc_bitmap_first(in); i >= 0; i = hwloc_bitmap_next(in, i)) pus.push_back(i);
    hwloc_bitmap_free(in);
    return pus;
  };
  std::vector<std::vector<int32_t>> out;
  const int n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < n; ++i) {
    out.push_back(pus_of(hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, i)->cpuset));
  }
  if (out.empty()) out.push_back(pus_of(hwloc_get_root_obj(t)->cpuset));
  return out;
}

}  // namespace corral
