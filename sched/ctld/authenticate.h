// Who a gRPC call comes from (access.h's Caller): the uid on the local socket, else a bearer
// token in the "authorization" metadata, else a node's certificate. A refusal is logged with
// the peer and the detail (refusal_log.h: at most ten a minute per host one by one, the rest
// summed up), and answered without it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>

#include "common/status.h"
#include "sched/ctld/access.h"
#include "sched/ctld/local_socket.h"
#include "sched/ctld/refusal_log.h"

namespace corral::ctld {

class Authenticator {
 public:
  explicit Authenticator(const AccessTable* table);
  // The local socket, once it listens (null: none). It must outlive the calls.
  void set_local(const LocalSocket* s) { local_ = s; }
  // Whether a job is still pending or running: a job's token is refused once it has ended.
  void set_job_check(std::function<bool(int64_t)> active) { job_active_ = std::move(active); }
  Result<Caller> Identify(grpc::ServerContextBase* ctx) const;
  const AccessTable& table() const { return *table_; }

 private:
  const AccessTable* table_;
  std::atomic<const LocalSocket*> local_{nullptr};
  std::function<bool(int64_t)> job_active_;  // set before serving
  mutable RefusalLog refusals_;
};

// Operator or admin, else PermissionDenied naming `what`.
Status RequireOperator(const Caller& c, const std::string& what);
Status RequireAdmin(const Caller& c, const std::string& what);

}  // namespace corral::ctld
