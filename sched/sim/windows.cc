#include "sched/sim/windows.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace corral::sim {

Result<std::vector<Window>> SampleWindows(const Workload& w, const WindowOptions& o) {
  if (o.count < 1 || o.count > 1000) {
    return Status::Invalid("--windows: " + std::to_string(o.count) + ": must be 1..1000");
  }
  if (o.size < 1 || o.size > 1000000) {
    return Status::Invalid("--window-jobs: " + std::to_string(o.size) + ": must be 1..1000000");
  }
  const size_t n = w.jobs.size(), size = static_cast<size_t>(o.size);
  if (n < 2 * size + 2) {
    return Status::Invalid("--window-jobs: " + std::to_string(size) + ": the trace has " +
                           std::to_string(n) + " jobs, and a window needs at least 2 x " +
                           std::to_string(size) + " + 2");
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return w.jobs[a].submit_s < w.jobs[b].submit_s; });
  std::mt19937_64 rng(o.seed);
  std::vector<Window> out;
  for (int32_t k = 0; k < o.count; ++k) {
    Window win;
    win.first = std::uniform_int_distribution<size_t>(size, n - size - 2)(rng);
    win.jobs.format = w.format;
    win.jobs.max_procs = w.max_procs;
    win.jobs.max_nodes = w.max_nodes;
    win.jobs.machine = w.machine;
    for (size_t i = win.first; i < win.first + size; ++i) win.jobs.jobs.push_back(w.jobs[order[i]]);
    if (o.prefill) {
      const int64_t now = win.jobs.jobs.front().submit_s;
      const size_t before = size + std::uniform_int_distribution<size_t>(0, size - 1)(rng);
      for (size_t i = 0; i < before && i < win.first; ++i) {
        const SimJob& j = w.jobs[order[win.first - 1 - i]];
        const int64_t run = std::max<int64_t>(j.req_time_s > 0 ? j.req_time_s : j.run_s, 1);
        const int64_t ago = std::uniform_int_distribution<int64_t>(0, run)(rng);
        PrefillJob p;
        p.job = j;
        p.start_s = std::max<int64_t>(now - ago, 0);
        p.end_s = p.start_s + run;
        p.expected_end_s = p.end_s;
        if (p.end_s <= now) continue;  // it ended before the window begins
        win.prefill.push_back(std::move(p));
      }
    }
    out.push_back(std::move(win));
  }
  return out;
}

}  // namespace corral::sim
