#include "launcher/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "fabric/delimited.h"

namespace corral {

namespace {

constexpr const char* kLog = "/journal";

int OpenLog(const std::string& path) {
  return open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

bool ReadAll(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return n == 0;
    }
    out->append(buf, static_cast<size_t>(n));
  }
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<JobJournal>> JobJournal::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return Status::Invalid("--state-dir " + dir + ": cannot create the job journal" +
                           (ec ? ": " + ec.message() : std::string()));
  }
  int fd = OpenLog(dir + kLog);
  if (fd < 0) return Status::Invalid("--state-dir " + dir + kLog + ": " + strerror(errno));
  return std::unique_ptr<JobJournal>(new JobJournal(dir, fd));
}

JobJournal::~JobJournal() {
  if (fd_ >= 0) close(fd_);
}

std::vector<v1::NodeJournalEntry> JobJournal::Load(std::vector<std::string>* skipped) {
  std::lock_guard<std::mutex> l(mu_);
  std::string bytes;
  if (!ReadAll(dir_ + kLog, &bytes) && skipped) {
    skipped->push_back(dir_ + kLog + ": unreadable: " + strerror(errno));
  }
  live_.clear();
  DelimitedReader r(bytes);
  v1::NodeJournalEntry e;
  size_t n = 0;
  while (r.Next(&e)) {
    ++n;
    if (e.job_id() <= 0) {
      if (skipped)
        skipped->push_back(dir_ + kLog + ": record " + std::to_string(n) + ": no job id");
      continue;
    }
    if (e.forget()) {
      live_.erase(e.job_id());
    } else {
      live_[e.job_id()] = EncodeDelimited(e);
    }
  }
  if (r.error() && skipped) {
    skipped->push_back(dir_ + kLog + ": record " + std::to_string(n + 1) +
                       " is torn or malformed; it and what follows are dropped");
  }
  std::vector<v1::NodeJournalEntry> out;
  for (const auto& [id, rec] : live_) {
    DelimitedReader one(rec);
    v1::NodeJournalEntry x;
    if (one.Next(&x)) out.push_back(std::move(x));
  }
  if (Status s = Compact(); !s.ok() && skipped) skipped->push_back(s.message());
  return out;
}

Status JobJournal::Put(const v1::NodeJournalEntry& entry) {
  std::string rec = EncodeDelimited(entry);
  std::lock_guard<std::mutex> l(mu_);
  live_[entry.job_id()] = rec;
  return Append(rec);
}

void JobJournal::Remove(int64_t job_id) {
  std::lock_guard<std::mutex> l(mu_);
  if (live_.erase(job_id) == 0) return;
  v1::NodeJournalEntry f;
  f.set_job_id(job_id);
  f.set_forget(true);
  (void)Append(EncodeDelimited(f));
  // Rewrite once the log is mostly forgotten records: its size stays near the live set's.
  if (records_ > 4096 && records_ > 4 * live_.size()) (void)Compact();
}

Status JobJournal::Append(const std::string& record) {
  if (fd_ < 0 || !WriteAll(fd_, record)) {
    return Status::Internal(dir_ + kLog + ": " + (fd_ < 0 ? "not open" : strerror(errno)));
  }
  ++records_;
  return Status::Ok();
}

Status JobJournal::Compact() {
  std::string path = dir_ + kLog, tmp = path + ".tmp";
  std::string all;
  for (const auto& [id, rec] : live_) all += rec;
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal(tmp + ": " + strerror(errno));
  bool ok = WriteAll(fd, all);
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::Internal(path + ": cannot rewrite: " + strerror(errno));
  }
  int nfd = OpenLog(path);
  if (nfd < 0) return Status::Internal(path + ": " + strerror(errno));
  if (fd_ >= 0) close(fd_);
  fd_ = nfd;
  records_ = live_.size();
  return Status::Ok();
}

}  // namespace corral
