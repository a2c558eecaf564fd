// corrald's accounting writer thread. The controller's writer thread posts rows here and goes
// on: the HDF5 appends (and their flushes) happen on this thread, in batches of whatever has
// arrived, so a slow disk or a long `corral acct` read never holds up group commit.
//
// Job and step rows are kept until written: an append that fails is retried every second.
// Usage samples are kept up to `max_pending_samples`; beyond that the newest are dropped and
// counted, so a sink that cannot write never grows without bound. Once job rows are in the
// file, `written` is called (on this thread) with their ids, so that the controller can
// store their `accounted` flag. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "accounting/hdf5_writer.h"

namespace corral::ctld {

class AcctSink {
 public:
  using Written = std::function<void(std::vector<JobId> ids)>;

  AcctSink(std::unique_ptr<AccountingWriter> writer, Written written,
           size_t max_pending_samples = 1'000'000);
  // Writes what is pending (for at most `drain_ms` when appends keep failing), then stops.
  ~AcctSink();
  AcctSink(const AcctSink&) = delete;
  AcctSink& operator=(const AcctSink&) = delete;

  void Post(AccountingBatch batch);
  // Blocks until everything posted before the call is in the file, or `timeout_ms` passed;
  // returns whether it is.
  bool Flush(int64_t timeout_ms);

  // For reads, which take the writer's own lock, never the controller's.
  const AccountingWriter& writer() const { return *writer_; }
  int64_t dropped_samples() const;

 private:
  void Loop();

  std::unique_ptr<AccountingWriter> writer_;
  Written written_;
  const size_t max_samples_;
  mutable std::mutex mu_;
  std::condition_variable cv_, flushed_cv_;
  AccountingBatch pending_;
  uint64_t posted_ = 0, done_ = 0;  // batches posted, and written
  int64_t dropped_ = 0;
  bool stopping_ = false;
  int64_t drain_ms_ = 5'000;
  std::thread thread_;
};

}  // namespace corral::ctld
