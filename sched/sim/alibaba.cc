#include "sched/sim/alibaba.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>
#include <vector>

#include "sched/sim/csv.h"
#include "sched/sim/swf.h"

namespace corral::sim {

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxGpus = 64;     // per pod and per node
constexpr int64_t kWholeGpu = 1000;  // gpu_milli of one whole GPU

// --- fields (the CSV text helpers are csv.h's) ---

// A time that may be missing: "" or "nan" is -1.
std::string ParseTime(std::string_view tok, int64_t* v) {
  if (tok.empty() || Lower(tok) == "nan") {
    *v = -1;
    return {};
  }
  return ParseCount(tok, v);
}

// A GPU model (or alternatives joined by '|') as the Workload keeps it: lower case, "nan" and
// empty alternatives dropped.
std::string Model(std::string_view spec) {
  std::string out;
  while (true) {
    const size_t bar = spec.find('|');
    const std::string alt = Lower(Trim(spec.substr(0, bar)));
    if (!alt.empty() && alt != "nan") out += (out.empty() ? "" : "|") + alt;
    if (bar == std::string_view::npos) return out;
    spec.remove_prefix(bar + 1);
  }
}

// --- pods ---

enum PodCol { kCpu, kMem, kNumGpu, kGpuMilli, kCreation, kDeletion, kScheduled, kName, kSpec };
constexpr size_t kPodRequired = 7;  // the columns before kName
constexpr std::array<std::string_view, 9> kPodNames = {
    "cpu_milli",     "memory_mib",     "num_gpu", "gpu_milli", "creation_time",
    "deletion_time", "scheduled_time", "name",    "gpu_spec"};
using PodCols = std::array<int, kPodNames.size()>;

// The numeric suffix of a pod's name ("openb-pod-0017": 17); -1 when it has none.
int64_t NameNumber(std::string_view name) {
  size_t start = name.size();
  while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9') --start;
  int64_t v = -1;
  auto [p, ec] = std::from_chars(name.data() + start, name.data() + name.size(), v);
  return ec == std::errc() && start < name.size() ? v : -1;
}

// "line N: <a>: before <b> (x < y)".
std::string Before(int64_t n, std::string_view a, int64_t x, std::string_view b, int64_t y) {
  return LineMessage(n, std::string(a) + ": before " + std::string(b) + " (" + std::to_string(x) +
                            " < " + std::to_string(y) + ")");
}

// One pod (data row `row`, line n) into *job; returns its message if malformed, else "".
// *replayable is false for a pod never scheduled or never deleted.
std::string ParsePod(const std::vector<std::string_view>& f, const PodCols& col, int64_t row,
                     int64_t n, SimJob* job, bool* replayable) {
  std::array<int64_t, kPodRequired> v{};
  for (size_t k = 0; k < kPodRequired; ++k) {
    std::string_view tok = f[static_cast<size_t>(col[k])];
    std::string why;
    if (k == kNumGpu) {
      why = ParseInRange(tok, 0, kMaxGpus, &v[k]);
    } else if (k == kGpuMilli) {
      why = ParseInRange(tok, 0, kWholeGpu, &v[k]);
    } else if (k == kDeletion || k == kScheduled) {
      why = ParseTime(tok, &v[k]);
    } else {
      why = ParseCount(tok, &v[k]);
    }
    if (!why.empty()) return LineMessage(n, std::string(kPodNames[k]) + ": " + why);
  }
  const int64_t procs = v[kCpu] / 1000 + (v[kCpu] % 1000 != 0 ? 1 : 0);
  if (procs > kInt32Max) {
    return LineMessage(n, "cpu_milli: out of range: " + std::to_string(v[kCpu]) + " (over " +
                              std::to_string(kInt32Max) + " CPUs)");
  }
  const int64_t created = v[kCreation], deleted = v[kDeletion], scheduled = v[kScheduled];
  if (scheduled >= 0 && scheduled < created) {
    return Before(n, "scheduled_time", scheduled, "creation_time", created);
  }
  if (deleted >= 0 && scheduled >= 0 && deleted < scheduled) {
    return Before(n, "deletion_time", deleted, "scheduled_time", scheduled);
  }
  if (deleted >= 0 && deleted < created) {
    return Before(n, "deletion_time", deleted, "creation_time", created);
  }
  const int64_t number = col[kName] >= 0 ? NameNumber(f[static_cast<size_t>(col[kName])]) : -1;
  job->id = number >= 0 ? number : row;
  job->submit_s = created;
  job->wait_s = scheduled >= 0 ? scheduled - created : -1;
  job->run_s = scheduled >= 0 && deleted >= 0 ? deleted - scheduled : 0;
  job->req_time_s = -1;
  job->procs = static_cast<int32_t>(procs < 1 ? 1 : procs);
  job->nodes = 1;
  job->gpus = static_cast<int32_t>(v[kNumGpu]);
  const bool share = v[kNumGpu] == 1 && v[kGpuMilli] > 0 && v[kGpuMilli] < kWholeGpu;
  job->gpu_milli = static_cast<int32_t>(share ? v[kGpuMilli] : kWholeGpu);
  job->gpu_model = col[kSpec] >= 0 ? Model(f[static_cast<size_t>(col[kSpec])]) : "";
  job->mem_mib = v[kMem];
  job->user = -1;
  job->line = n;
  *replayable = scheduled >= 0 && deleted >= 0;
  return {};
}

Result<Workload> ParsePods(std::string_view text, const AlibabaOptions& opts) {
  if (int64_t bad = FindBinaryLine(text); bad != 0) return Status::Invalid(NotTextMessage(bad));
  Workload w;
  w.format = "alibaba";
  LineReader lines(text);
  std::string_view line;
  PodCols col{};
  size_t count = 0;
  bool have_header = false;
  int64_t row = 0;
  std::string first_error;
  while (lines.Next(&line)) {
    const int64_t n = lines.number();
    w.lines = n;
    std::string err;
    if (line.size() > kCsvMaxLineBytes) {
      if (have_header) ++row;
      err = TooLongMessage(n);
    } else if (Trim(line).empty()) {
      continue;
    } else if (!have_header) {
      Result<PodCols> found = FindColumns(line, n, kPodNames, kPodRequired, &count);
      if (!found.ok()) return found.status();
      col = *found;
      have_header = true;
      continue;
    } else {
      ++row;
      const std::vector<std::string_view> f = SplitCsv(line);
      SimJob job;
      bool replayable = false;
      err = f.size() != count ? FieldsMessage(n, count, f.size())
                              : ParsePod(f, col, row, n, &job, &replayable);
      if (err.empty() && !replayable) ++w.unreplayable;
      if (err.empty() && replayable) {
        if (job.gpu_milli < kWholeGpu) ++w.fractional_gpus;
        w.jobs.push_back(std::move(job));
      }
    }
    if (err.empty()) continue;
    if (opts.strict) return Status::Invalid(std::move(err));
    NoteSkipped(std::move(err), opts.max_errors, &w, &first_error);
  }
  if (w.jobs.empty() && w.unreplayable == 0) {
    return Status::Invalid(NoJobsMessage(w.skipped, first_error));
  }
  return w;
}

// --- nodes ---

enum NodeCol { kNodeCpu, kNodeMem, kNodeGpu, kNodeModel };
constexpr std::array<std::string_view, 4> kNodeNames = {"cpu_milli", "memory_mib", "gpu", "model"};

// The node list as groups of identical consecutive nodes; messages "line N: ..." unprefixed.
Result<std::vector<NodeGroup>> ParseNodes(std::string_view text) {
  if (int64_t bad = FindBinaryLine(text); bad != 0) return Status::Invalid(NotTextMessage(bad));
  std::vector<NodeGroup> groups;
  LineReader lines(text);
  std::string_view line;
  std::array<int, kNodeNames.size()> col{};
  size_t count = 0;
  bool have_header = false;
  while (lines.Next(&line)) {
    const int64_t n = lines.number();
    if (line.size() > kCsvMaxLineBytes) return Status::Invalid(TooLongMessage(n));
    if (Trim(line).empty()) continue;
    if (!have_header) {
      Result<std::array<int, kNodeNames.size()>> found =
          FindColumns(line, n, kNodeNames, kNodeNames.size(), &count);
      if (!found.ok()) return found.status();
      col = *found;
      have_header = true;
      continue;
    }
    const std::vector<std::string_view> f = SplitCsv(line);
    if (f.size() != count) return Status::Invalid(FieldsMessage(n, count, f.size()));
    std::array<int64_t, 3> v{};
    for (size_t k = 0; k < v.size(); ++k) {
      std::string_view tok = f[static_cast<size_t>(col[k])];
      const std::string why = k == kNodeGpu   ? ParseInRange(tok, 0, kMaxGpus, &v[k])
                              : k == kNodeCpu ? ParseInRange(tok, 0, kInt32Max * 1000, &v[k])
                                              : ParseCount(tok, &v[k]);
      if (!why.empty()) {
        return Status::Invalid(LineMessage(n, std::string(kNodeNames[k]) + ": " + why));
      }
    }
    NodeGroup g;
    g.count = 1;
    g.cpus = static_cast<int32_t>(v[kNodeCpu] < 1000 ? 1 : v[kNodeCpu] / 1000);
    g.mem_mib = v[kNodeMem];
    g.gpus = static_cast<int32_t>(v[kNodeGpu]);
    g.gpu_model = Model(f[static_cast<size_t>(col[kNodeModel])]);
    NodeGroup* last = groups.empty() ? nullptr : &groups.back();
    if (last != nullptr && last->count < kInt32Max && last->cpus == g.cpus &&
        last->mem_mib == g.mem_mib && last->gpus == g.gpus && last->gpu_model == g.gpu_model) {
      ++last->count;
    } else {
      groups.push_back(std::move(g));
    }
  }
  if (groups.empty()) return Status::Invalid("no nodes");
  return groups;
}

// `prefix` before a message: "nodes line 3: ..." or "PATH: line 3: ...".
Status Prefixed(const Status& s, const std::string& prefix, bool colon_before_line) {
  const std::string& m = s.message();
  if (!colon_before_line && m.starts_with("line ")) return Status::Invalid(prefix + " " + m);
  return Status::Invalid(prefix + ": " + m);
}

}  // namespace

Result<Workload> ParseAlibaba(std::string_view pods_csv, std::string_view nodes_csv,
                              const AlibabaOptions& opts) {
  Result<Workload> w = ParsePods(pods_csv, opts);
  if (!w.ok() || nodes_csv.empty()) return w;
  Result<std::vector<NodeGroup>> nodes = ParseNodes(nodes_csv);
  if (!nodes.ok()) return Prefixed(nodes.status(), "nodes", false);
  w->machine = std::move(*nodes);
  return w;
}

Result<Workload> ReadAlibaba(const std::string& path, const std::string& nodes_path,
                             const AlibabaOptions& opts) {
  std::string pods_file = path, nodes_file = nodes_path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    const std::filesystem::path dir(path);
    pods_file = (dir / kAlibabaPodFile).string();
    const std::string def = (dir / kAlibabaNodeFile).string();
    if (nodes_file.empty() && std::filesystem::exists(def, ec)) nodes_file = def;
  }
  Result<std::string> pods_text = ReadTraceText(pods_file);
  if (!pods_text.ok()) return pods_text.status();
  Result<Workload> w = ParsePods(*pods_text, opts);
  if (!w.ok()) return Prefixed(w.status(), pods_file, true);
  if (nodes_file.empty()) return w;
  Result<std::string> nodes_text = ReadTraceText(nodes_file);
  if (!nodes_text.ok()) return nodes_text.status();
  Result<std::vector<NodeGroup>> nodes = ParseNodes(*nodes_text);
  if (!nodes.ok()) return Prefixed(nodes.status(), nodes_file, true);
  w->machine = std::move(*nodes);
  return w;
}

bool LooksLikeAlibabaPods(std::string_view text) {
  LineReader lines(text);
  std::string_view first;
  if (!lines.Next(&first)) return false;
  bool name = false, cpu = false, gpu = false;
  for (std::string_view c : SplitCsv(first)) {
    const std::string col = Lower(c);
    name = name || col == "name";
    cpu = cpu || col == "cpu_milli";
    gpu = gpu || col == "num_gpu";
  }
  return name && cpu && gpu;
}

}  // namespace corral::sim
