// The inside of Controller, shared by the files that implement it (controller.cc: the writer,
// the scheduler's shell and the RPC commands; node_events.cc: what nodes report). Everything
// here but the published view and the command queue belongs to the writer thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "accounting/hdf5_writer.h"
#include "sched/core/advance_reservation.h"
#include "sched/core/fairshare.h"
#include "sched/core/fit.h"
#include "sched/core/partition.h"
#include "sched/ctld/acct_sink.h"
#include "sched/ctld/controller.h"
#include "sched/ctld/job_array.h"
#include "sched/ctld/job_record.h"
#include "sched/ctld/job_view.h"
#include "sched/ctld/store.h"

namespace corral::ctld {

struct NodeEntry {
  NodeProfile profile;
  bool connected = false;
  // The GPU check: "" (no GPUs), "pending", "verified", "simulated" or "failed: <why>". Only
  // nodes without GPUs or with checked ones get jobs. Kept while the controller runs: a node
  // that reconnects with the same GPUs is not checked again.
  std::string verification;
  v1::GemmChallenge challenge;     // the one sent, while pending
  TimeMs verify_deadline_ms = 0;   // wall clock: the round under way fails after it
  TimeMs verify_sent_mono_ms = 0;  // monotonic: when the challenge went out (round one's timer)
  TimeMs verify_limit_ms = 0;      // how long round one may take (gpu_ratings.h)
  TimeMs round_one_ms = 0;         // how long round one took, as corrald timed it
  TimeMs last_check_ms = 0;        // wall clock: when a check last ended
  TimeMs next_check_ms = 0;        // wall clock: when to check its GPUs again, once idle; 0: no
  // While pending: once the node has committed (its report holds one check per GPU), what it
  // showed, and the challenge sent to open entries of its products.
  v1::VerifyReport committed;
  VerifyOutcome committed_outcome;
  uint64_t open_challenge = 0;
  std::vector<v1::GpuCheckResult> gpu_checks;
  bool AwaitingOpening() const { return committed.gpus_size() > 0; }
  // An admin's drain or down (admin_nodes.cc); state "" when none. Kept in the store.
  v1::NodeHold hold;
  std::string label;  // its provider's display name (admin_nodes.cc); kept in the store
  bool Usable() const {
    return connected && hold.state().empty() &&
           (verification.empty() || verification == "verified" || verification == "simulated");
  }
  TimeMs last_seen_ms = 0;
  TimeMs down_since_ms = 0;
  std::shared_ptr<NodeChannel> channel;
  std::set<JobId> jobs;
  sched::NodeView free;  // free resources, kept in step with `jobs`
};

// Work collected while a batch of commands is applied; acted on after the commit.
struct Batch {
  std::set<JobId> changed_jobs;    // ids of tasks without a Job of their own mean their array
  std::set<JobId> changed_arrays;  // by first id: the rest's published entry is redone
  bool nodes_changed = false;
  bool schedule = false;
  std::vector<std::pair<std::shared_ptr<NodeChannel>, v1::ControllerMessage>> outbox;
  std::vector<std::function<void()>> after_commit;
};

using Command = std::function<void(Batch&)>;

class Controller::Impl {
 public:
  ControllerOptions opts;
  std::mt19937_64 challenge_rng{std::random_device{}()};  // seeds and challenges of GPU checks
  std::unique_ptr<Store> store;
  std::shared_ptr<AccessTable> access;  // opts.access, never null
  // The accounting file: its writer until the Controller opens, then the sink that owns it.
  std::unique_ptr<AccountingWriter> acct_file;
  std::unique_ptr<AcctSink> acct;
  std::mutex accounted_mu;
  std::vector<JobId> accounted;  // in HDF5, flag not yet stored (also the sink's thread)

  // ---- Writer-thread state. ----
  std::map<JobId, Job> jobs;  // every job; ordered by id, which is submission order
  // PENDING jobs are in exactly one of these; only `pending` is walked by a scheduling pass,
  // so held jobs and jobs waiting on others cost nothing per pass.
  std::set<JobId> pending;   // eligible: not held, dependencies met
  std::set<JobId> held;      // -H, until released
  std::set<JobId> dep_wait;  // dependencies not met yet; looked at when a job starts or ends
  bool deps_dirty = false;
  // Arrays by first id (job_array.h; arrays.cc). The rest of an array whose tasks are PENDING
  // without a Job of their own is filed, as a whole, under one of these (held: by its template).
  std::map<JobId, JobArray> arrays;
  std::set<JobId> rest_pending;   // eligible
  std::set<JobId> rest_dep_wait;  // dependencies not met yet
  // The jobs not ended yet, by (user, name): what singleton dependencies wait on. An array's
  // active rest counts as its first id (so that id may be there twice).
  std::map<std::pair<std::string, std::string>, std::multiset<JobId>> active_names;
  std::map<std::string, sched::Qos> qos;           // by name; "normal" always there (admin_qos.cc)
  int64_t qos_top = 0;                             // the highest QOS priority, kept with `qos`
  std::vector<sched::Partition> partitions;        // admin_partitions.cc; empty: one of all
  std::vector<sched::AdvanceReservation> advance;  // admin_reservations.cc; none ended
  // Fair share (fair_share.cc): the tree as defined, and with its usage.
  std::vector<sched::FairShareAccount> fs_accounts;
  // Accounts' group limits (fair_share.cc), by name; `parent` is filled in for each pass.
  std::map<std::string, sched::AccountLimits> account_limits;
  std::vector<sched::FairShareUser> fs_users;
  std::unique_ptr<sched::FairShareTree> fs_tree;
  TimeMs fs_charged_ms = 0, fs_persisted_ms = 0;
  sched::RuntimeHistory runtimes;  // users' completed runs, for --runtime-model history
  // When the next scheduling pass may run, and whether one was asked for before then.
  std::chrono::steady_clock::time_point next_pass_at;
  bool pass_due = false;
  // Running jobs being preempted (Job::preempted_by), until they end (preemption.cc).
  std::set<JobId> preempting;
  // The last pass's reservations (planned starts of waiting jobs), by job.
  std::map<JobId, sched::Reservation> reserved;
  std::map<std::string, NodeEntry> nodes;
  JobId next_id = 1;
  TimeMs started_ms = 0;
  std::vector<JobId> to_account;  // finished, not yet posted to the accounting sink
  AccountingBatch acct_rows;      // step rows and usage samples, not yet posted
  std::map<JobId, std::set<int64_t>> steps_recorded;  // of jobs not ended: their step rows
  std::map<JobId, int32_t> array_running;             // an array's first id -> tasks running
  JobId payload_cache_id = 0;  // the payload last loaded for a launch, and its script/env/args
  JobSpec payload_cache;
  // The payload last stored, encoded, and its id: a job submitted with the same script,
  // environment and arguments (a loop of `corral submit`, a batch of equal jobs) shares it.
  // Payload rows are never deleted, so the id stays valid; it is forgotten at restart.
  std::string last_payload;
  JobId last_payload_id = 0;

  // ---- Command queue. ----
  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<Command> queue;
  bool stopping = false;
  std::thread writer;

  // ---- Published view. ----
  mutable std::shared_mutex view_mu;
  // Wait calls not answered yet, by deadline; under view_mu. Publish answers those whose jobs
  // got there, the timer thread those whose deadline passed: no thread waits per call.
  struct Waiter {
    std::vector<JobId> ids;
    size_t first_open = 0;  // ids before it have reached the goal already
    bool until_running = false;
    std::function<void(Result<v1::WaitReply>)> done;
  };
  using WaitClock = std::chrono::steady_clock;
  // An answer due to a Wait call, given once no lock is held.
  using WaitAnswered = std::pair<std::function<void(Result<v1::WaitReply>)>, v1::WaitReply>;
  std::multimap<WaitClock::time_point, std::shared_ptr<Waiter>> waiters;
  std::condition_variable_any timer_cv;
  bool timer_stop = false;
  std::thread timer;
  std::unordered_map<JobId, JobView> view_jobs;
  std::set<JobId> view_active;  // pending or running, for the queue listing
  // Arrays, by first id: their tasks without a Job of their own (not in view_jobs) are shown
  // as `rest` says, one entry for them all (JobInfo.array_tasks), taken apart on request.
  struct ArrayShown {
    JobId last = 0;
    std::shared_ptr<const IndexList> indices;
    JobId rest_id = 0;  // the lowest task without a Job of its own; 0: none
    JobView rest;
  };
  std::map<JobId, ArrayShown> view_arrays;
  // The unfiltered queue listing (every active job's brief, in id order), built on demand and
  // dropped by Publish. Set under a shared view_mu plus stream_mu; Publish, which holds view_mu
  // exclusively, cannot run meanwhile, so the cache always matches the view.
  mutable std::mutex stream_mu;
  mutable std::shared_ptr<const std::string> active_stream;
  std::vector<v1::NodeInfo> view_nodes;
  std::string address;

  // Runs `fn` on the writer thread inside a transaction; after the commit, `done` gets its
  // result there. Nothing waits.
  template <typename T>
  void RunAsync(std::function<T(Batch&)> fn, std::function<void(T)> done) {
    Enqueue([fn = std::move(fn), done = std::move(done)](Batch& b) {
      auto value = std::make_shared<T>(fn(b));
      b.after_commit.push_back([done, value] { done(std::move(*value)); });
    });
  }

  // Starts an asynchronous call (`start` passes it the `done` to give its result to) and waits
  // for that result.
  template <typename T>
  static T Await(const std::function<void(std::function<void(T)>)>& start) {
    auto prom = std::make_shared<std::promise<T>>();
    auto fut = prom->get_future();
    start([prom](T value) { prom->set_value(std::move(value)); });
    return fut.get();
  }

  // Runs `fn` on the writer thread inside a transaction and waits for its commit.
  template <typename T>
  T Run(std::function<T(Batch&)> fn) {
    return Await<T>([&](std::function<void(T)> done) { RunAsync<T>(std::move(fn), done); });
  }

  void Enqueue(Command c) {
    {
      std::lock_guard<std::mutex> l(q_mu);
      queue.push_back(std::move(c));
    }
    q_cv.notify_one();
  }

  Status Load();
  Status LoadQos();
  Status LoadPartitions();
  // The admins' holds on nodes and their providers' labels, from the store (admin_nodes.cc).
  Status LoadNodeHolds();
  Status LoadAccess();  // admin_tokens.cc
  // Drops the certificates of node `name` (the store's rows and the table's): its corral-node
  // can no longer connect. The fingerprints dropped.
  Result<std::vector<std::string>> ForgetIdentities(const std::string& name);
  Status LoadReservations();
  Status LoadFairShare();
  // Charges running jobs for the time since the last charge, after decaying the usage.
  void ChargeUsage(TimeMs now);
  // Stores the usage, at most every 30 s unless `force`.
  Status PersistUsage(TimeMs now, bool force);
  int64_t FairShareFactor(const JobSpec& s) const;
  // The accounts with their parents and group limits, for a pass (empty: none has limits).
  void AccountLimitsFor(std::map<std::string, sched::AccountLimits>* out) const;
  // At submit: "" and the spec given the user's default account when it names none; or why
  // the account tree refuses it.
  std::string AdmitToAccount(JobSpec& s) const;
  // Stores a partition (and clears the other's default flag when it is the default).
  Status PutPartition(const sched::Partition& p);
  // The jobs not ended that run or wait in `partition`, and one of them.
  int32_t JobsIn(const std::string& partition, JobId* example) const;
  // At submit: "" and the spec given its partition (the default one for none) and, without
  // -t, the partition's default time; or why the partition refuses it.
  std::string AdmitToPartition(JobSpec& s) const;
  // At submit: "" or why the job's --reservation refuses it.
  std::string AdmitToReservation(const JobSpec& s) const;
  // The partition priority factor (0..kOne) of a job: its tier over the highest.
  int64_t PartitionFactor(const JobSpec& s) const;
  // Drops the reservations that have ended.
  void ExpireReservations(TimeMs now, Batch& b);
  void ReconcileAccounting();
  void WriterLoop();
  void ApplyBatch(std::deque<Command>& cmds, bool tick);
  // One scheduling pass (sched::Schedule) and its decisions; `tick`: the periodic one.
  void Schedule(Batch& b, TimeMs now, bool tick);
  sched::PriorityInputs PriorityInputsOf(const Job& j) const;
  // Sets why a job waits, publishing it if it changed.
  void SetReason(Job& j, const std::string& reason, Batch& b);
  void Tick(Batch& b, TimeMs now);
  void Finish(Job& j, JobState st, int32_t exit_code, TimeMs end, const std::string& reason,
              Batch& b);
  void Persist(const Job& j, Batch& b);
  void Publish(const Batch& b);
  v1::JobInfo MakeInfo(const Job& j) const;
  // The accounting row of a job that ended. Its GPU models are those of the GPUs it ran on (the
  // request's, "any" for none named, where a node is not known): what --gpu-choice chose.
  JobRecord AcctRow(const Job& j) const;
  // Wait calls, under view_mu: whether `w` got there (advancing first_open), and its answer.
  bool Reached(Waiter& w) const;
  v1::WaitReply WaitAnswer(const Waiter& w) const;
  void TimerLoop();
  v1::NodeInfo MakeNodeInfo(const NodeEntry& n) const;
  std::string CheckSpec(const JobSpec& s) const;
  void ApplyNodeMessage(const std::string& node, const v1::NodeMessage& msg, Batch& b);
  // A (re)connecting node's registration, applied in one batch: its finishes first, then the
  // jobs it lost, then the jobs it does not name (launched again). Fills `ok`'s orphans.
  Status ApplyRegistration(const NodeProfile& p, const v1::NodeRegister& reg,
                           std::shared_ptr<NodeChannel> channel, v1::Registered* ok, Batch& b);
  // A job's end as `node` reports it; ignored unless the job runs there now, in the run
  // (restarts) the report names.
  void ApplyFinished(const std::string& node, const v1::JobFinished& f, Batch& b);
  // A usage sample, or a step's end, for the accounting file (acct_events.cc).
  void RecordUsage(const std::string& node, const v1::JobUsage& u);
  void ApplyStepExit(const std::string& node, const v1::StepExit& x);
  // A running job whose node lost it: requeued when it allows it, else NODE_FAIL.
  void LoseJob(Job& j, const std::string& reason, TimeMs now, Batch& b);
  // RUNNING -> PENDING: its resources are freed, the other nodes stop it, `restarts` grows.
  void Requeue(Job& j, const std::string& reason, Batch& b);
  // Preemption (preemption.cc): a pass's decisions sent to the victims' nodes (SIGTERM, then
  // SIGKILL after the grace time); a victim's end, requeued or PREEMPTED; and the victims whose
  // nodes never reported their end, ended at the tick once the grace time is long over.
  void ApplyPreemptions(const std::vector<sched::PreemptDecision>& d, TimeMs now, Batch& b);
  void EndPreempted(Job& j, int32_t exit_code, TimeMs end, Batch& b);
  void ExpirePreemptions(TimeMs now, Batch& b);
  void ApplyVerifyReport(const std::string& name, NodeEntry& n, const v1::VerifyReport& report,
                         Batch& b);
  void ApplyVerifyOpening(const std::string& name, NodeEntry& n, const v1::VerifyOpening& opening,
                          Batch& b);
  void FailCheck(const std::string& name, NodeEntry& n, const std::string& why, Batch& b);
  // A new challenge for n's GPUs, with round one's deadline for the GPUs it declares
  // (gpu_checks.cc); the caller sends n.challenge.
  void StartGpuCheck(NodeEntry& n, TimeMs now);
  // Fails checks past their deadline; checks idle nodes again when they are due.
  void TickGpuChecks(TimeMs now, Batch& b);
  // Files a PENDING job under pending, held or dep_wait.
  void FileJob(const Job& j);
  enum class Deps { kReady, kWait, kNever };
  Deps EvaluateDeps(const Job& j) const;
  Deps EvaluateDep(const Job& j, const JobSpec::Dependency& d) const;
  // Keeps active_names: `active` when the job is submitted (or loaded unfinished), not when it
  // ends.
  void NoteActive(const Job& j, bool active);
  void Start(Job& j, Allocation alloc, TimeMs now, Batch& b);
  // The LaunchJob of running job `j` for `node` (the payload loaded from the store).
  v1::ControllerMessage LaunchMessage(const Job& j, const std::string& node);
  // Frees the resources `j` holds on its nodes.
  void ReleaseNodes(const Job& j, Batch& b);
  void StopOnNodes(const Job& j, const std::string& except, Batch& b);
  // The ids an id stands for: an array's first id means all its tasks.
  std::vector<JobId> Expand(JobId id) const;

  // ---- Compact arrays (arrays.cc). ----
  // The array task `id` belongs to (nullptr: none).
  JobArray* ArrayOf(JobId id);
  const JobArray* ArrayOf(JobId id) const;
  // Whether `id` names a job, or an array task with or without a Job of its own.
  bool Exists(JobId id) const;
  // A job by id: its Job, or (an array task without one) the task as it would be, in *scratch.
  const Job* Lookup(JobId id, Job* scratch) const;
  // A job by id, given a Job of its own first when it is an array task without one (stored,
  // filed as its array's rest is); nullptr when there is no such job.
  Job* Materialise(JobId id, Batch& b);
  // Stores an array's row (its template and the rest's state) and republishes its rest.
  void PersistArray(const JobArray& a, Batch& b);
  // Files an array's PENDING rest as FileJob files a job (held, dep_wait or pending).
  void FileRest(JobArray& a);
  // The rest of an array, cancelled as a whole: CANCELLED without Jobs of their own; their
  // accounting rows are written from the template.
  void CancelRest(JobArray& a, TimeMs now, Batch& b);
  // Sets why an array's rest waits, publishing it if it changed.
  void SetRestReason(JobArray& a, const std::string& reason, Batch& b);
  // The rest released from --hold as a whole.
  void ReleaseRest(JobArray& a, Batch& b);
  // Reads back arrays from the store, after the jobs (Load).
  Status LoadArrays();
  // The first job not ended (array rests included, counted per task) whose spec `pred` takes,
  // or 0; with `count`, how many there are.
  JobId FirstActive(const std::function<bool(const JobSpec&)>& pred, int32_t* count) const;
  // The published state of `id` (view_mu held): false when the view has no such job.
  bool ShownState(JobId id, JobState* st, int32_t* exit_code) const;
  // The published JobInfo of `id` (view_mu held): false when there is none.
  bool ShownInfo(JobId id, v1::JobInfo* out) const;
  // Listings (view_mu held): fn(view) for each of `ids` (in view_jobs, ascending) with the
  // arrays' rests among them by their lowest task (only PENDING ones with `active_only`), each
  // as one entry or, with `expand`, one per task.
  // Defined (and used) in published_view.cc.
  template <typename Ids>
  void ForEachListed(const Ids& ids, bool active_only, bool expand,
                     const std::function<void(const JobView&)>& fn) const;
};

}  // namespace corral::ctld
