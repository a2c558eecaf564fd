#include "launcher/gpu_spec.h"

#include <cstdio>
#include <string_view>

namespace corral {
namespace {

constexpr size_t kMaxSpecLen = 4096;
constexpr size_t kMaxModelLen = 32;
constexpr size_t kMaxShown = 48;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// `s` quoted for an error message: at most kMaxShown bytes, non-printable bytes as \xNN.
std::string Shown(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += s.size() > kMaxShown ? "...\"" : "\"";
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a run of decimal digits at the start of `s` into *value (capped at `cap` + 1 so
// that huge numbers cannot overflow); returns the number of digits read.
size_t ParseDigits(std::string_view s, int64_t cap, int64_t* value) {
  size_t i = 0;
  int64_t v = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    v = v * 10 + (s[i] - '0');
    if (v > cap) v = cap + 1;
  }
  *value = v;
  return i;
}

// Parses one COUNTxMODEL[@numaN[/swM]] item and appends its GPUs; returns a reason on error.
std::string ParseItem(std::string_view item, int numa_nodes, std::vector<GpuDevice>* out) {
  constexpr const char* kForm = "expected COUNTxMODEL[@numaN[/swM]], e.g. 2xH100@numa0/sw1";
  if (item.empty()) return "empty item";
  if (item[0] == '-' || item[0] == '+') return "the count must be a positive whole number";
  int64_t count = 0;
  size_t n = ParseDigits(item, kMaxGpusPerNode, &count);
  if (n == 0) return kForm;
  if (count < 1 || count > kMaxGpusPerNode) {
    return "the count must be 1.." + std::to_string(kMaxGpusPerNode);
  }
  item.remove_prefix(n);
  if (item.empty() || (item[0] != 'x' && item[0] != 'X')) return kForm;
  item.remove_prefix(1);

  size_t at = item.find('@');
  std::string_view model = item.substr(0, at);
  if (model.empty()) return "missing model after the count, e.g. 2xH100";
  if (model.size() > kMaxModelLen) {
    return "the model name is longer than " + std::to_string(kMaxModelLen) + " characters";
  }
  for (char c : model) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') {
      return "the model may hold only letters, digits, '.', '_' and '-'";
    }
  }

  int32_t numa = -1, pcie_switch = -1;
  if (at != std::string_view::npos) {
    std::string_view loc = item.substr(at + 1);
    if (size_t slash = loc.find('/'); slash != std::string_view::npos) {
      // /swM: the PCIe switch, numbered within the node.
      std::string_view sw = loc.substr(slash + 1);
      loc = loc.substr(0, slash);
      int64_t s = 0;
      size_t d = sw.size() > 2 && Lower(std::string(sw.substr(0, 2))) == "sw"
                     ? ParseDigits(sw.substr(2), kMaxGpusPerNode, &s)
                     : 0;
      if (d == 0 || d + 2 != sw.size() || s >= kMaxGpusPerNode) {
        return "expected /swM after @numaN, M from 0 to " + std::to_string(kMaxGpusPerNode - 1) +
               ", e.g. @numa0/sw1";
      }
      pcie_switch = static_cast<int32_t>(s);
    }
    std::string word = Lower(std::string(loc.substr(0, 4)));
    if (word != "numa" || loc.size() == 4) return "expected @numaN after the model, e.g. @numa0";
    loc.remove_prefix(4);
    int64_t idx = 0;
    size_t d = ParseDigits(loc, 1 << 20, &idx);
    if (d == 0 || d != loc.size()) return "expected @numaN after the model, e.g. @numa0";
    if (idx >= numa_nodes) {
      if (numa_nodes <= 0) return "NUMA node " + std::to_string(idx) + " does not exist";
      return "NUMA node " + std::to_string(idx) + " does not exist (this node has " +
             std::to_string(numa_nodes) + " NUMA nodes: 0.." + std::to_string(numa_nodes - 1) + ")";
    }
    numa = static_cast<int32_t>(idx);
  }

  if (static_cast<int64_t>(out->size()) + count > kMaxGpusPerNode) {
    return "more than " + std::to_string(kMaxGpusPerNode) + " GPUs in total";
  }
  std::string lower = Lower(std::string(model));
  for (int64_t i = 0; i < count; ++i) {
    GpuDevice g;
    g.index = static_cast<int32_t>(out->size());
    g.model = lower;
    g.mem_mib = KnownGpuMemMib(lower);
    g.numa = numa;
    g.pcie_switch = pcie_switch;
    out->push_back(std::move(g));
  }
  return "";
}

}  // namespace

Result<std::vector<GpuDevice>> ParseGpuList(const std::string& spec, int numa_nodes) {
  auto fail = [&](const std::string& why) {
    return Status::Invalid("--gpus=" + Shown(spec) + ": " + why);
  };
  if (spec.size() > kMaxSpecLen) {
    return fail("longer than " + std::to_string(kMaxSpecLen) + " characters");
  }
  std::string_view all = Trim(spec);
  if (all.empty()) return fail("empty list; give e.g. 2xH100@numa0,2xH100@numa1, or none");
  if (Lower(std::string(all)) == "none") return std::vector<GpuDevice>{};

  std::vector<GpuDevice> gpus;
  size_t start = 0;
  while (true) {
    size_t comma = all.find(',', start);
    std::string_view item = Trim(all.substr(start, comma - start));
    std::string why = ParseItem(item, numa_nodes, &gpus);
    if (!why.empty()) return fail(item.size() == all.size() ? why : Shown(item) + ": " + why);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // A switch hangs off one NUMA node.
  for (const GpuDevice& a : gpus) {
    for (const GpuDevice& b : gpus) {
      if (a.pcie_switch >= 0 && a.pcie_switch == b.pcie_switch && a.numa != b.numa) {
        return fail("switch sw" + std::to_string(a.pcie_switch) +
                    " is under two NUMA nodes; a PCIe switch hangs off one");
      }
    }
  }
  return gpus;
}

int64_t KnownGpuMemMib(const std::string& model) {
  struct Known {
    const char* model;
    int64_t mem_mib;
  };
  static constexpr Known kKnown[] = {
      {"h100", 80 * 1024}, {"a100", 80 * 1024}, {"rtx4090", 24 * 1024},
      {"l40s", 48 * 1024}, {"v100", 32 * 1024}, {"t4", 16 * 1024},
  };
  for (const Known& k : kKnown) {
    if (model == k.model) return k.mem_mib;
  }
  return 0;
}

std::string NormalizeGpuModel(const std::string& name) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : name) {
    if (IsAlnum(c)) {
      cur += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    } else if (c == ' ' || c == '\t' || c == '-' || c == '_' || c == '/') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    }  // other characters are dropped
  }
  if (!cur.empty()) words.push_back(std::move(cur));

  std::vector<std::string> kept;
  for (std::string& w : words) {
    if (w != "nvidia" && w != "geforce" && w != "tesla" && w != "quadro") {
      kept.push_back(std::move(w));
    }
  }
  if (kept.empty()) return "";
  std::string model = kept[0];
  if ((model == "rtx" || model == "gtx" || model == "titan") && kept.size() > 1) {
    model += kept[1];
  }
  return model.substr(0, kMaxModelLen);
}

}  // namespace corral
