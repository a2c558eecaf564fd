#include "common/job.h"

#include <algorithm>
#include <iterator>

namespace corral {

int32_t JobSpec::GpusPerNode() const {
  if (gpus_per_node > 0) return gpus_per_node;
  if (gpus <= 0) return 0;
  int32_t n = std::max(nodes, 1);
  return (gpus + n - 1) / n;
}

int32_t JobSpec::CpusPerNode() const {
  int32_t n = std::max(nodes, 1);
  int32_t tasks_per_node = (std::max(ntasks, 1) + n - 1) / n;
  return tasks_per_node * std::max(cpus_per_task, 1);
}

namespace {

int64_t CpusOver(int32_t nodes, int32_t ntasks, int32_t cpus_per_task) {
  int32_t n = std::max(nodes, 1);
  int64_t tasks_per_node = (std::max(ntasks, 1) + n - 1) / n;
  return tasks_per_node * std::max(cpus_per_task, 1) * n;
}

int64_t GpusOver(int32_t nodes, int32_t gpus, int32_t gpus_per_node) {
  int32_t n = std::max(nodes, 1);
  if (gpus_per_node > 0) return static_cast<int64_t>(gpus_per_node) * n;
  if (gpus <= 0) return 0;
  return static_cast<int64_t>((gpus + n - 1) / n) * n;
}

}  // namespace

int64_t JobSpec::TotalCpus() const {
  int64_t c = CpusOver(nodes, ntasks, cpus_per_task);
  for (const auto& h : het) c += CpusOver(h.nodes, h.ntasks, h.cpus_per_task);
  return c;
}

int64_t JobSpec::TotalGpus() const {
  int64_t g = GpusOver(nodes, gpus, gpus_per_node);
  for (const auto& h : het) g += GpusOver(h.nodes, h.gpus, h.gpus_per_node);
  return g;
}

JobSpec JobSpec::Component(size_t i) const {
  JobSpec c = *this;
  c.het.clear();
  if (i == 0 || i > het.size()) return c;
  const HetComponent& h = het[i - 1];
  c.nodes = h.nodes;
  c.ntasks = h.ntasks;
  c.cpus_per_task = h.cpus_per_task;
  c.mem_mib = h.mem_mib;
  c.gpu_model = h.gpu_model;
  c.gpus = h.gpus;
  c.gpus_per_node = h.gpus_per_node;
  return c;
}

namespace {
constexpr const char* kChoiceNames[] = {"any", "fastest", "cheapest"};
constexpr const char* kKindNames[] = {"", "inference", "training", "rl", "batch"};

// names[i] for enum value i (unknown values: names[0]), and back from `first` on.
template <typename E, size_t N>
const char* NameOf(const char* const (&names)[N], E e) {
  const auto i = static_cast<size_t>(e);
  return i < N ? names[i] : names[0];
}
template <typename E, size_t N>
bool ParseNamed(const char* const (&names)[N], size_t first, const std::string& s, E* out) {
  for (size_t i = first; i < N; ++i) {
    if (s == names[i]) return *out = static_cast<E>(i), true;
  }
  return false;
}
}  // namespace

const char* GpuChoiceName(GpuChoice c) {
  return NameOf(kChoiceNames, c);
}
bool ParseGpuChoice(const std::string& s, GpuChoice* out) {
  return ParseNamed(kChoiceNames, 0, s, out);
}
const char* JobKindName(JobKind k) {
  return NameOf(kKindNames, k);
}
bool ParseJobKind(const std::string& s, JobKind* out) {
  return ParseNamed(kKindNames, 1, s, out);
}

JobKind InferKind(const JobSpec& s) {
  if (s.kind != JobKind::kUnset) return s.kind;
  if (!s.het.empty()) {
    bool gpu = false, cpu = false;
    for (size_t i = 0; i < s.NumComponents(); ++i) {
      const bool g = i == 0 ? s.gpus > 0 || s.gpus_per_node > 0
                            : s.het[i - 1].gpus > 0 || s.het[i - 1].gpus_per_node > 0;
      gpu = gpu || g, cpu = cpu || !g;
    }
    if (gpu && cpu) return JobKind::kRl;
  }
  const int64_t gpus = s.TotalGpus();
  if (gpus == 0) return JobKind::kBatch;
  const bool array = s.array_job_id > 0 || !s.array_indices.empty();
  if (s.nodes == 1 && s.het.empty() && array) return JobKind::kInference;
  if (s.nodes > 1 || gpus > 1) return JobKind::kTraining;
  return JobKind::kInference;
}

namespace {
constexpr const char* kNames[] = {"PENDING", "RUNNING",   "COMPLETED", "FAILED",       "CANCELLED",
                                  "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY"};
static_assert(std::size(kNames) == static_cast<size_t>(JobState::kLastState) + 1);
}  // namespace

const char* JobStateName(JobState s) {
  return kNames[static_cast<int>(s)];
}

bool ParseJobState(const std::string& name, JobState* out) {
  for (int i = 0; i < static_cast<int>(std::size(kNames)); ++i) {
    if (name == kNames[i]) {
      *out = static_cast<JobState>(i);
      return true;
    }
  }
  return false;
}

bool IsTerminal(JobState s) {
  return s != JobState::kPending && s != JobState::kRunning;
}

bool CanTransition(JobState from, JobState to) {
  switch (from) {
    case JobState::kPending:
      return to == JobState::kRunning || to == JobState::kCancelled;
    case JobState::kRunning:
      return IsTerminal(to) || to == JobState::kPending;
    default:
      return false;
  }
}

namespace {

// A name as one path component: no '/' (it would leave the directory the pattern names), and
// not "." or "..".
std::string PathSafe(std::string s) {
  std::replace(s.begin(), s.end(), '/', '_');
  if (s == "." || s == "..") s.assign(s.size(), '_');
  return s;
}

}  // namespace

std::string ExpandOutputPattern(const std::string& pattern, JobId id, const JobSpec& spec,
                                const std::string& first_node) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c != '%' || i + 1 == pattern.size()) {
      out += c;
      continue;
    }
    char k = pattern[++i];
    switch (k) {
      case 'j':
        out += std::to_string(id);
        break;
      case 'A':
        out += std::to_string(spec.array_job_id > 0 ? spec.array_job_id : id);
        break;
      case 'a':
        out += std::to_string(spec.array_task_id >= 0 ? spec.array_task_id : 0);
        break;
      case 'x':
        out += PathSafe(spec.name);
        break;
      case 'u':
        out += PathSafe(spec.user);
        break;
      case 'N':
        out += first_node;
        break;
      case '%':
        out += '%';
        break;
      default:
        out += '%';
        out += k;
        break;
    }
  }
  return out;
}

}  // namespace corral
