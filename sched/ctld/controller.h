// The controller's core: one writer thread owns the cluster state (DESIGN.md rule 2).
// Public methods are called from RPC threads. Commands that change state are queued, applied in
// batches inside one SQLite transaction (group commit), and return only after that commit.
// Reads are served from a view published after each commit, so readers never wait on a commit.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "fabric/pki.h"
#include "fabric/proto/corral.pb.h"
#include "sched/core/schedule.h"
#include "sched/ctld/access.h"
#include "sched/ctld/gpu_verify.h"

namespace corral::ctld {

// The way to one connected node; implemented by the NodeLink service. Send must not block for
// long: implementations queue the message.
class ClusterMesh;

class NodeChannel {
 public:
  virtual ~NodeChannel() = default;
  // False if the node is gone; the message was not queued.
  virtual bool Send(const v1::ControllerMessage& msg) = 0;
  // Ends the stream with UNAUTHENTICATED and `why` (its credential was withdrawn). Any thread.
  virtual void Revoke(const std::string& why) = 0;
};

struct ControllerOptions {
  std::string state_dir;
  std::string address;               // where corrald listens, given to jobs as CORRAL_CONTROLLER
  int64_t heartbeat_ms = 1000;       // how often nodes heartbeat
  int64_t node_timeout_ms = 30000;   // a node silent this long is down; its jobs fail
  VerifyPolicy verify;               // the GPU check of nodes that declare GPUs
  sched::SchedulerConfig scheduler;  // priority weights and backfill (sched/core/schedule.h)
  // From corrald --config: the partitions the file defines (admin_partitions.cc says how they
  // meet run-time changes). config_given: a file was read, even one without partitions.
  struct FairShare {
    TimeMs half_life_ms = 7LL * 24 * 3600 * 1000;  // PriorityDecayHalfLife
    double gpu_weight = 8;              // a GPU-second counts as this many CPU-seconds of usage
    TimeMs store_every_ms = 30 * 1000;  // how often the usage is written to the store
  } fairshare;
  bool config_given = false;
  std::vector<v1::PartitionSpec> partitions;
  // corrald --gpu-price: each GPU model's rate per GPU-hour, micro-units of credit.
  std::map<std::string, int64_t> gpu_prices;
  // The cluster CA (cluster_pki.h), which signs nodes' certificates at attach, and the table
  // that calls are authenticated against (filled from the store by Open).
  pki::KeyCert ca;
  std::shared_ptr<AccessTable> access;
  // The overlay mesh (cluster_mesh.h), whose certificates attach hands out; null: none.
  std::shared_ptr<ClusterMesh> mesh;
};

class Controller {
 public:
  // Opens the state (SQLite under state_dir, HDF5 accounting in state_dir/accounting.h5),
  // reconciles accounting, and starts the writer thread.
  static Result<std::unique_ptr<Controller>> Open(const ControllerOptions& opts);
  ~Controller();
  void SetAddress(const std::string& address);

  // ---- Commands: return after the change is committed. ----
  // Validates and queues jobs. All or none: one infeasible job rejects the request, naming it.
  Result<std::vector<int64_t>> Submit(const google::protobuf::RepeatedPtrField<v1::JobSpec>& specs);
  v1::CancelReply Cancel(const v1::CancelRequest& req);
  // The same without waiting: `done` gets the reply on the writer thread, after the commit.
  void Cancel(const v1::CancelRequest& req, std::function<void(v1::CancelReply)> done);
  // Releases held jobs (an array's first id releases all its tasks).
  v1::ReleaseReply Release(const v1::ReleaseRequest& req);
  // Puts running batch jobs back in the queue: their processes are stopped, they wait again
  // with their priority, and run again from the start (restarts grows). Refused, per job, for a
  // job that is not running, a `corral run` allocation, or one submitted with --no-requeue.
  v1::RequeueReply Requeue(const v1::RequeueRequest& req);
  // `corral admin qos`: adds, modifies, removes or lists QOSes (admin_qos.cc). Invalid,
  // AlreadyExists, NotFound or FailedPrecondition name the field or the reason; nothing changes
  // then.
  Result<v1::AdminQosReply> AdminQos(const v1::AdminQosRequest& req);
  // `corral admin partition` (admin_partitions.cc) and `corral admin reservation`
  // (admin_reservations.cc), with the same errors. A partition that jobs use, or a reservation
  // a job runs in, is not removed; reservations never overlap.
  Result<v1::AdminPartitionReply> AdminPartition(const v1::AdminPartitionRequest& req);
  Result<v1::AdminNodeReply> AdminNode(const v1::AdminNodeRequest& req);
  Result<v1::AdminReservationReply> AdminReservation(const v1::AdminReservationRequest& req);
  // `corral admin account|user` (fair_share.cc): the tree is checked whole (cycles, unknown
  // parents, shares); an account with sub-accounts, users or jobs, or a user with jobs, stays.
  Result<v1::AdminAccountReply> AdminAccount(const v1::AdminAccountRequest& req);
  // `corral share`: the tree's shares, usage and Fair Tree factors.
  Result<v1::ShareReply> Share(const v1::ShareRequest& req) const;
  // `corral admin token` (admin_tokens.cc): create (the reply has the secret, once), list or
  // revoke. `by` is who asked, for the log and the token's record.
  Result<v1::AdminTokenReply> AdminToken(const v1::AdminTokenRequest& req, const std::string& by);
  // A node attaches: spends its join token (Unauthenticated, with no detail, when it is not
  // valid), signs the key of its CSR, and records the identity. AlreadyExists when another key
  // has the name.
  Result<v1::AttachReply> Attach(const v1::AttachRequest& req, const std::string& peer);
  const AccessTable& access() const;
  // Ends a running `corral run` allocation: COMPLETED for exit code 0, else FAILED.
  Status Complete(const v1::CompleteRequest& req);
  // A node (re)connected. `done` gets what to answer in Registered: once the registration is
  // committed, on the writer thread (so it must not block), or at once, on this thread, if the
  // registration is invalid. Returns without waiting for the commit.
  void NodeConnected(const v1::NodeRegister& reg, std::shared_ptr<NodeChannel> channel,
                     std::function<void(Result<v1::Registered>)> done);
  void NodeDisconnected(const std::string& node, const NodeChannel* channel);
  void NodeMessage(const std::string& node, const v1::NodeMessage& msg);

  // ---- Reads: from the published view. ----
  v1::ListJobsReply ListJobs(const v1::ListJobsRequest& req) const;
  v1::ListNodesReply ListNodes() const;
  // Answers once every id is finished (or, with until_running, started) or the timeout (at
  // most 600 s, 30 s by default) passes; nothing waits meanwhile. An array's first id stands
  // for all its tasks. NotFound names an unknown id. `done` gets the answer at once, or from
  // the Publish that gets the last job there (writer thread), or at the timeout (the timer
  // thread): it must not block, nor call the Controller.
  void Wait(const v1::WaitRequest& req, std::function<void(Result<v1::WaitReply>)> done) const;
  Result<v1::AcctReply> Accounting(const v1::AcctRequest& req) const;
  // Whether job `id` is pending or running now (a job token is good only then).
  bool JobActive(int64_t id) const;
  // The job's priority factors and place in the queue, as the writer sees them now. NotFound
  // names an unknown id.
  Result<v1::ExplainReply> Explain(int64_t job_id) const;

  // ---- Steps (processes started inside a running job, e.g. MPI daemons). ----
  struct StepTarget {
    std::shared_ptr<NodeChannel> channel;
    v1::JobInfo job;
    std::string node;
  };
  // The channel to `node` (empty: the job's first) if `job_id` runs there now; given to `done`
  // on the writer thread (which it must not block), without waiting.
  void FindStepTarget(int64_t job_id, const std::string& node,
                      std::function<void(Result<StepTarget>)> done) const;

  class Impl;  // the writer thread's state; opaque outside controller.cc

 private:
  explicit Controller(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::ctld
