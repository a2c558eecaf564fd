// Internal to accounting/: the lock that makes one process at a time the writer of an
// accounting file. It is a Linux open-file-description lock (F_OFD_SETLK) on the file itself,
// so the kernel drops it when the holder exits, even by kill -9. That is what makes it safe
// for the writer to clear a stale SWMR flag: whoever holds this lock is the only writer.
// HDF5's own flock() does not serve: a SWMR writer drops it so that readers can open, and a
// reader's shared flock() would stop a restarted writer; the accounting module turns it off.
// While a writer lives, the SWMR flag in the superblock also keeps other HDF5 programs from
// opening the file for writing.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace corral::acct_internal {

class WriterLock {
 public:
  // Opens `path` read-write, creating it empty if absent, and takes the lock without waiting.
  // Fails with Unavailable if another open file description holds it (another writer, also in
  // this process), and with Invalid/NotFound/PermissionDenied, naming the path and the
  // reason, if the path cannot be opened (a directory, a missing parent, no permission).
  static Result<WriterLock> Acquire(const std::string& path);

  WriterLock(WriterLock&& o) noexcept : fd_(o.fd_), size_(o.size_) { o.fd_ = -1; }
  WriterLock& operator=(WriterLock&& o) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();

  // Size of the file in bytes when the lock was taken; -1 if unknown.
  int64_t size_at_acquire() const { return size_; }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_ = -1;
  int64_t size_ = -1;
};

}  // namespace corral::acct_internal
