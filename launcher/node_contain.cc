// corral-node's containment of a job (node_agent_impl.h): who its processes run as, and the
// cgroup that limits, counts and ends them.
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/time.h"
#include "launcher/node_agent_impl.h"

namespace corral {

namespace {

// "UID:GID[:GID,...]" of account `name` with its groups, or "" when there is no such account.
std::string AccountOf(const std::string& name) {
  if (name.empty()) return "";
  std::vector<char> buf(16384);
  passwd pw{}, *found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) return "";
  std::string id = std::to_string(pw.pw_uid) + ":" + std::to_string(pw.pw_gid);
  std::vector<gid_t> groups(64);
  int n = static_cast<int>(groups.size());
  if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<size_t>(n));
    if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) n = 0;
  }
  std::string extra;
  for (int i = 0; i < n; ++i) {
    if (groups[i] == pw.pw_gid) continue;
    extra += (extra.empty() ? "" : ",") + std::to_string(groups[i]);
  }
  return extra.empty() ? id : id + ":" + extra;
}

}  // namespace

Status PrivateSpool(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Internal("spool directory " + dir + ": " + strerror(errno));
  }
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) {
    return Status::Internal("spool directory " + dir + ": " + strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::Invalid("spool directory " + dir + " is not a directory (a symlink?); not used");
  }
  if (st.st_uid != geteuid()) {
    return Status::Invalid("spool directory " + dir + " belongs to uid " +
                           std::to_string(st.st_uid) + ", not to this agent's (" +
                           std::to_string(geteuid()) + "); not used");
  }
  const mode_t mode = geteuid() == 0 ? 0711 : 0700;
  if ((st.st_mode & 07777) != mode && chmod(dir.c_str(), mode) != 0) {
    return Status::Internal("spool directory " + dir + ": chmod: " + strerror(errno));
  }
  return Status::Ok();
}

bool GiveToJobUser(const LocalJob& j, const std::string& path) {
  if (j.user.empty()) return true;
  uid_t uid = static_cast<uid_t>(std::stoul(j.user));
  gid_t gid = static_cast<gid_t>(std::stoul(j.user.substr(j.user.find(':') + 1)));
  return lchown(path.c_str(), uid, gid) == 0;
}

Status NodeAgent::Impl::Contain(LocalJob* j) {
  if (geteuid() == 0) {
    const std::string& who = j->info.spec().user();
    j->user = AccountOf(who);
    if (j->user.empty()) {
      j->user = AccountOf(opts.job_user);
      if (j->user.empty()) {
        return Status::Invalid("user \"" + who + "\" has no account on " + opts.profile.name +
                               ", nor has --job-user \"" + opts.job_user + "\"");
      }
      spdlog::info("job {}: user {} has no account here; it runs as {}", j->info.id(), who,
                   opts.job_user);
    }
    // The job's directory (its TMPDIR, holding its script) is its user's.
    if (!GiveToJobUser(*j, j->dir) || !GiveToJobUser(*j, j->dir + "/hostfile")) {
      return Status::Internal("cannot give " + j->dir + " to the job's user (" + j->user + ")");
    }
  }
  if (!cgroups) return Status::Ok();
  CgroupLimits limits;
  std::set<int32_t> mine;  // its GPUs here
  for (const auto& a : j->info.alloc()) {
    if (a.node() != opts.profile.name) continue;
    limits.mem_bytes += a.mem_mib() * (int64_t{1} << 20);
    limits.cpus += a.cpus();
    mine.insert(a.gpu_indices().begin(), a.gpu_indices().end());
  }
  // The node's other GPUs are not its: /dev/nvidiaN (major 195, minor N in PCI order, which is
  // the order of the profile and of CUDA_DEVICE_ORDER=PCI_BUS_ID) stays closed to it.
  for (size_t g = 0; g < opts.profile.gpus.size(); ++g) {
    if (!mine.count(static_cast<int32_t>(g))) {
      limits.deny_devices.push_back("c 195:" + std::to_string(g) + " rwm");
    }
  }
  std::string leaf =
      "job-" + std::to_string(j->info.id()) + "." + std::to_string(j->info.restarts());
  auto procs = cgroups->Create(leaf, limits);
  if (!procs.ok()) return procs.status();
  j->cgroup = leaf;
  j->cgroup_procs = std::move(procs).value();
  return Status::Ok();
}

void NodeAgent::Impl::StartAs(const LocalJob& j, SpawnSpec* sp) const {
  if (j.cgroup.empty() && j.user.empty()) return;
  sp->exec_helper = opts.bin_dir + "/corral-exec";
  sp->cgroup_procs = j.cgroup_procs;
  sp->user = j.user;
}

namespace {

v1::JobUsage UsageRecord(const LocalJob& j, const CgroupUsage& u) {
  v1::JobUsage r;
  r.set_job_id(j.info.id());
  r.set_restarts(j.info.restarts());
  r.set_cpu_ms(u.cpu_us / 1000);
  r.set_rss_bytes(u.bytes);
  r.set_max_rss_bytes(std::max(u.peak_bytes, u.bytes));
  r.set_sampled_ms(WallNowMs());
  return r;
}

}  // namespace

v1::JobUsage FinalUsage(const LocalJob& j, const CgroupUsage& u) {
  v1::JobUsage r = UsageRecord(j, u);
  r.set_rss_bytes(0);
  return r;
}

void NodeAgent::Impl::SampleUsage() {
  if (!cgroups) return;
  std::vector<std::pair<int64_t, std::string>> leaves;
  {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& [id, j] : jobs) {
      if (!j.cgroup.empty()) leaves.emplace_back(id, j.cgroup);
    }
  }
  std::vector<std::pair<std::string, CgroupUsage>> read;
  for (const auto& [id, leaf] : leaves) read.emplace_back(leaf, cgroups->Usage(leaf));
  std::lock_guard<std::mutex> l(mu);
  for (size_t i = 0; i < leaves.size(); ++i) {
    auto it = jobs.find(leaves[i].first);
    if (it == jobs.end() || it->second.cgroup != read[i].first) continue;  // ended meanwhile
    it->second.usage = UsageRecord(it->second, read[i].second);
    it->second.usage_fresh = true;
  }
}

std::vector<v1::JobUsage> NodeAgent::Impl::FreshUsage() {
  std::vector<v1::JobUsage> out;
  std::lock_guard<std::mutex> l(mu);
  for (auto& [id, j] : jobs) {
    if (!j.usage_fresh) continue;
    j.usage_fresh = false;
    out.push_back(j.usage);
  }
  return out;
}

void NodeAgent::Impl::KillContained(const std::string& cgroup, int grace_ms) const {
  if (!cgroups || cgroups->Signal(cgroup, SIGTERM) == 0) return;
  const TimeMs until = MonotonicNowMs() + grace_ms;
  while (MonotonicNowMs() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (cgroups->Pids(cgroup).empty()) return;
  }
  cgroups->KillAll(cgroup, 2000);
}

bool NodeAgent::Impl::Uncontain(const std::string& cgroup) const {
  if (!cgroups || cgroup.empty()) return true;
  cgroups->KillAll(cgroup, 2000);
  return cgroups->Remove(cgroup);
}

}  // namespace corral
