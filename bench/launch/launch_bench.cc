// corral-launch-bench: what containment costs a job's start on this machine, part by part, each
// beside its anchor from the same run. Spawning `true` directly (posix_spawn, as corral-node did
// before containment) against the same through corral-exec, and through corral-exec into a fresh
// cgroup with limits; and the cgroup's setup alone (create with limits, then remove). Medians of
// --runs. Needs root and a cgroup hierarchy for the cgroup rows (it says so otherwise).
//
//   corral-launch-bench [--runs N]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "launcher/cgroup.h"
#include "launcher/process.h"

namespace {

using Clock = std::chrono::steady_clock;

double MedianUs(int runs, const std::function<bool()>& once) {
  std::vector<double> us;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    if (!once()) return -1;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

bool RunTrue(corral::SpawnSpec sp) {
  auto pid = corral::Spawn(sp);
  if (!pid.ok()) {
    std::fprintf(stderr, "spawn: %s\n", pid.status().message().c_str());
    return false;
  }
  int st = 0;
  waitpid(*pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 200;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: corral-launch-bench [--runs N]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > 100000) {
    std::fprintf(stderr, "corral-launch-bench: --runs must be 1..100000\n");
    return 2;
  }
  const std::string bin = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  corral::SpawnSpec sp;
  sp.argv = {"/bin/true"};
  sp.env = {{"PATH", "/usr/bin:/bin"}};
  sp.stdout_path = "/dev/null";
  const double direct = MedianUs(runs, [&] { return RunTrue(sp); });
  corral::SpawnSpec via = sp;
  via.exec_helper = bin + "/corral-exec";
  const double helper = MedianUs(runs, [&] { return RunTrue(via); });

  std::string why;
  auto groups = corral::Cgroups::Open("launch-bench-" + std::to_string(getpid()), &why);
  double setup = -1, contained = -1;
  if (groups) {
    corral::CgroupLimits limits;
    limits.mem_bytes = int64_t{1} << 30;
    limits.cpus = 1;
    int k = 0;
    setup = MedianUs(runs, [&] {
      const std::string leaf = "job-" + std::to_string(++k) + ".0";
      return groups->Create(leaf, limits).ok() && groups->Remove(leaf);
    });
    contained = MedianUs(runs, [&] {
      const std::string leaf = "job-" + std::to_string(++k) + ".0";
      auto procs = groups->Create(leaf, limits);
      if (!procs.ok()) return false;
      corral::SpawnSpec in = via;
      in.cgroup_procs = *procs;
      const bool ok = RunTrue(in);
      groups->KillAll(leaf, 1000);
      return groups->Remove(leaf) && ok;
    });
  } else {
    std::printf("no cgroups here (%s): the cgroup rows are n/a\n", why.c_str());
  }
  auto fig = [](double v) {
    char buf[32];
    if (v < 0) return std::string("n/a");
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return std::string(buf);
  };
  std::printf("| start of `true` (median of %d) | us | anchor |\n|---|---:|---|\n", runs);
  std::printf("| posix_spawn, as before containment | %s | the anchor |\n", fig(direct).c_str());
  std::printf("| through corral-exec | %s | %+.0f us |\n", fig(helper).c_str(), helper - direct);
  std::printf("| cgroup create with limits + remove | %s | - |\n", fig(setup).c_str());
  std::printf("| through corral-exec in a new cgroup, all of it | %s | %s |\n",
              fig(contained).c_str(),
              contained < 0 ? "n/a" : ("+" + fig(contained - direct) + " us").c_str());
  std::printf(
      "RESULT spawn_direct_us=%s spawn_helper_us=%s cgroup_setup_us=%s spawn_contained_us=%s\n",
      fig(direct).c_str(), fig(helper).c_str(), fig(setup).c_str(), fig(contained).c_str());
  return 0;
}
