#include "accounting/writer_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corral::acct_internal {
namespace {

Status OpenError(const std::string& path, int err) {
  std::string msg = path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(msg + " (does its directory exist?)");
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(msg);
    default:
      return Status::Invalid(msg);
  }
}

}  // namespace

Result<WriterLock> WriterLock::Acquire(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return OpenError(path, errno);
  WriterLock lock(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) return OpenError(path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Invalid(path + ": not a regular file");
  lock.size_ = static_cast<int64_t>(st.st_size);

  struct flock fl;
  std::memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file, however large it grows
  if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    int err = errno;
    if (err == EAGAIN || err == EACCES) {
      return Status::Unavailable(path + ": another accounting writer has it open");
    }
    return Status::Internal(path + ": cannot lock: " + std::strerror(err));
  }
  return lock;
}

WriterLock& WriterLock::operator=(WriterLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    size_ = o.size_;
    o.fd_ = -1;
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock
}

}  // namespace corral::acct_internal
