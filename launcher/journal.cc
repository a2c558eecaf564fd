#include "launcher/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace corral {

namespace {

constexpr const char* kPrefix = "job-";
constexpr const char* kTmpPrefix = ".tmp-job-";  // an entry being written, before its rename

bool ReadAll(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
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

}  // namespace

Result<JobJournal> JobJournal::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return Status::Invalid("--state-dir " + dir + ": cannot create the job journal" +
                           (ec ? ": " + ec.message() : std::string()));
  }
  return JobJournal(dir);
}

std::string JobJournal::PathOf(int64_t job_id) const {
  return dir_ + "/" + kPrefix + std::to_string(job_id);
}

std::vector<v1::NodeJournalEntry> JobJournal::Load(std::vector<std::string>* skipped) const {
  std::vector<v1::NodeJournalEntry> out;
  DIR* d = opendir(dir_.c_str());
  if (!d) return out;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
  closedir(d);
  for (const std::string& name : names) {
    if (name == "." || name == "..") continue;
    std::string path = dir_ + "/" + name;
    if (name.rfind(kTmpPrefix, 0) == 0) {
      // Left by a kill between its write and its rename: the entry it was to replace is still
      // there (or there was none).
      unlink(path.c_str());
      continue;
    }
    if (name.rfind(kPrefix, 0) != 0) continue;  // not ours
    std::string bytes;
    v1::NodeJournalEntry e;
    char* end = nullptr;
    long long id = strtoll(name.c_str() + strlen(kPrefix), &end, 10);
    std::string why;
    if (*end != '\0' || id <= 0) {
      why = "not a job id";
    } else if (!ReadAll(path, &bytes)) {
      why = std::string("unreadable: ") + strerror(errno);
    } else if (!e.ParseFromString(bytes) || e.job_id() != id) {
      why = "not a journal entry for job " + std::to_string(id);
    }
    if (!why.empty()) {
      if (skipped) skipped->push_back(path + ": " + why);
      unlink(path.c_str());
      continue;
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.job_id() < b.job_id(); });
  return out;
}

Status JobJournal::Put(const v1::NodeJournalEntry& entry) const {
  std::string path = PathOf(entry.job_id());
  std::string tmp = dir_ + "/" + kTmpPrefix + std::to_string(entry.job_id());
  std::string bytes = entry.SerializeAsString();
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal(tmp + ": " + strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  int err = errno;
  close(fd);
  if (done != bytes.size()) {
    unlink(tmp.c_str());
    return Status::Internal(tmp + ": short write: " + strerror(err));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    unlink(tmp.c_str());
    return Status::Internal(path + ": " + strerror(err));
  }
  return Status::Ok();
}

void JobJournal::Remove(int64_t job_id) const {
  unlink(PathOf(job_id).c_str());
}

}  // namespace corral
