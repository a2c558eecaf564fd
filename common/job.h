// The job model shared by the CLI, the wire conversion and the scheduler: what a user asked
// for (JobSpec), where it runs (Allocation) and its life cycle (JobState).
// Quantities are integers: CPUs in whole CPUs per task, memory in MiB, time in ms.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/time.h"

namespace corral {

using JobId = int64_t;

// --gpu-choice: which GPU model a job takes when it names none, or alternatives (gpu_choice.h).
// kAny: the least wasteful with room now; kFastest: where it is estimated to finish soonest;
// kCheapest: where it is estimated to cost least.
enum class GpuChoice : int32_t { kAny = 0, kFastest, kCheapest };
// --kind: what the job is, given or inferred (InferKind); shown by queue and acct.
enum class JobKind : int32_t { kUnset = 0, kInference, kTraining, kRl, kBatch };
// "any", "fastest", "cheapest" / "inference", "training", "rl", "batch" ("" for kUnset), and
// back (false: unknown; kUnset is not parsed).
const char* GpuChoiceName(GpuChoice c);
bool ParseGpuChoice(const std::string& s, GpuChoice* out);
const char* JobKindName(JobKind k);
bool ParseJobKind(const std::string& s, JobKind* out);

struct JobSpec {
  std::string name = "job";  // -J
  std::string user;
  std::string account;
  std::string partition;      // -p; empty = default partition
  int32_t nodes = 1;          // -N
  int32_t ntasks = 1;         // -n
  int32_t cpus_per_task = 1;  // -c
  int64_t mem_mib = 0;        // --mem, per node; 0 = no memory request
  std::string gpu_model;      // lower case, e.g. "h100"; empty = any model
  int32_t gpus = 0;           // -G/--gpus, total over the job
  int32_t gpus_per_node = 0;  // --gpus-per-node
  // --gpus=[MODEL:]0.N: a share of one GPU in thousandths (1..999, with gpus == 1 on one node),
  // its memory split alike; 0 = whole GPUs. Components 1.. of a hetjob take whole GPUs.
  int32_t gpu_milli = 0;
  // The alternatives of gpu_model ("v100|p100|k80") are in order of preference: the first with
  // room is taken (the fastest for the job, say). Else any, by best fit. Not on the wire yet:
  // the simulator sets it (sched/sim/hetero.h).
  bool gpu_models_in_order = false;
  GpuChoice gpu_choice = GpuChoice::kAny;  // --gpu-choice
  // --max-price: the most the job pays per GPU-hour, in micro-units of credit; 0 = no cap.
  int64_t max_price_micro = 0;
  JobKind kind = JobKind::kUnset;  // --kind; unset: InferKind's
  TimeMs time_limit_ms = 0;        // -t; 0 = unlimited
  std::string script;              // the batch script, interpreter line included
  std::string output;              // -o pattern; empty = "corral-%j.out" in the working dir
  std::string error;               // -e pattern; empty = same file as output
  std::string workdir;             // --chdir, absolute; defaults to the submit dir
  std::string submit_dir;          // where corral submit ran
  std::vector<std::pair<std::string, std::string>> env;  // the environment the job sees
  std::vector<std::string> args;                         // arguments to the batch script ($1...)
  std::vector<int32_t> array_indices;                    // --array, before expansion
  int32_t array_throttle = 0;                            // --array=...%N
  JobId array_job_id = 0;      // after expansion: the array's first job id
  int32_t array_task_id = -1;  // after expansion: this task's index
  bool hold = false;           // -H/--hold
  struct Dependency {
    std::string type;  // after, afterok, afternotok, afterany
    JobId job_id = 0;
    bool operator==(const Dependency&) const = default;
  };
  std::vector<Dependency> dependencies;  // -d/--dependency
  bool dependency_any = false;           // joined by '?' (any of them), not ',' (all)
  bool interactive = false;              // corral run: no batch script
  // --requeue (the default, as Slurm's JobRequeue=1) / --no-requeue: whether a batch job whose
  // node is lost goes back to the queue, or ends NODE_FAIL.
  bool requeue = true;
  std::string qos;          // --qos; empty = "normal"
  std::string reservation;  // --reservation: an advance reservation it runs in
  // --signal=[B:]SIG[@SECS]: SIG (0 = none) SECS seconds before the time limit, to the batch
  // script alone (B:) or to every process of the job.
  int32_t signal = 0, signal_secs = 60;
  bool signal_batch_only = false;
  int32_t nice = 0;  // --nice: subtracted from the job's priority; 0..10000000
  // A heterogeneous job (`#CORRAL hetjob`): the resources of components 1.. (component 0 is
  // this spec's own nodes/ntasks/cpus/mem/gpus). All components start together or not at all.
  struct HetComponent {
    int32_t nodes = 1, ntasks = 1, cpus_per_task = 1;
    int64_t mem_mib = 0;
    std::string gpu_model;
    int32_t gpus = 0, gpus_per_node = 0;
    bool operator==(const HetComponent&) const = default;
  };
  std::vector<HetComponent> het;

  // GPUs wanted on each allocated node (derived from gpus/gpus_per_node/nodes).
  int32_t GpusPerNode() const;
  // CPUs wanted on each allocated node: tasks are spread evenly, rounded up.
  int32_t CpusPerNode() const;
  size_t NumComponents() const { return 1 + het.size(); }
  // CPUs and GPUs over every node of every component (no copies: a pass asks this of every
  // pending job).
  int64_t TotalCpus() const;
  int64_t TotalGpus() const;
  // The resource request of component i (0 = this spec) as a spec of its own, without `het`.
  JobSpec Component(size_t i) const;
};

enum class JobState {
  kPending = 0,
  kRunning,
  kCompleted,
  kFailed,
  kCancelled,
  kTimeout,
  kNodeFail,
  kPreempted,    // preempted and cancelled (a requeued one goes back to PENDING)
  kOutOfMemory,  // the kernel killed a process of the job at its memory limit (the cgroup's)
  kLastState = kOutOfMemory
};

// "PENDING", "RUNNING", ... as Slurm prints them.
const char* JobStateName(JobState s);
// Parses a name as printed by JobStateName; false if unknown.
bool ParseJobState(const std::string& name, JobState* out);
bool IsTerminal(JobState s);
// The job state machine: PENDING -> RUNNING | CANCELLED; RUNNING -> any terminal state;
// RUNNING -> PENDING (requeue after a lost node, by request or on preemption); terminal states
// are final.
bool CanTransition(JobState from, JobState to);

struct NodeAllocation {
  std::string node;
  int32_t cpus = 0;
  int64_t mem_mib = 0;
  std::vector<int32_t> gpu_indices;  // indices into the node's GPU list
  int32_t component = 0;             // heterogeneous jobs: which component this is for
  int32_t gpu_milli = 0;  // 0: the GPUs whole; else this share of the one GPU listed (1..999)
};

using Allocation = std::vector<NodeAllocation>;

// The kind given, else inferred: a hetjob with a GPU component and a CPU one is rl; a job of
// several nodes, or of several GPUs, training; a one-node array task with GPUs, or a job of one
// GPU (or a share), inference; a job without GPUs, batch.
JobKind InferKind(const JobSpec& s);

// Expands %j (job id), %x (name), %A (array master id, = job id), %a (array index, or 0),
// %u (user), %N (first node) and %% in an output path pattern. %x and %u never bring a "/"
// (it becomes "_"), nor a bare "." or "..".
std::string ExpandOutputPattern(const std::string& pattern, JobId id, const JobSpec& spec,
                                const std::string& first_node);

}  // namespace corral
