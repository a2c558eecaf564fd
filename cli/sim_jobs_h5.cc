#include "cli/sim_jobs_h5.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/subprocess.h"

namespace corral::cli {

Status CheckJobsH5Path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec))
    return Status::Invalid("--jobs-h5 " + path + ": exists (give a new file)");
  const fs::path dir = fs::absolute(path, ec).parent_path();
  if (!fs::is_directory(dir, ec)) {
    return Status::Invalid("--jobs-h5 " + path + ": no such folder " + dir.string());
  }
  return Status::Ok();
}

Status WriteJobsH5(const std::string& path, const std::vector<SimRun>& runs,
                   const std::string& importer) {
  if (Status s = CheckJobsH5Path(path); !s.ok()) return s;
  const std::string rows = path + ".rows-" + std::to_string(getpid()) + ".jsonl";
  {
    std::ofstream out(rows);
    for (const SimRun& run : runs) {
      const std::string policy = run.name;
      for (const sim::JobOutcome& j : run.result.jobs) {
        const bool ran = j.start_s >= 0;
        out << nlohmann::json{{"job_id", j.id},
                              {"name", "sim"},
                              {"partition", policy},
                              {"state", ran ? "COMPLETED" : "NOT_RUN"},
                              {"ncpus", j.procs},
                              {"ngpus", j.gpus},
                              {"submit_ms", j.submit_s * 1000},
                              {"start_ms", ran ? j.start_s * 1000 : 0},
                              {"end_ms", ran ? j.end_s * 1000 : 0},
                              {"cpu_ms", ran ? j.run_s * 1000 * j.procs : 0},
                              {"gpu_ms", ran ? j.run_s * 1000 * j.gpus : 0}}
                   .dump()
            << "\n";
      }
    }
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(rows, ec);
      return Status::Invalid("--jobs-h5 " + path + ": could not write " + rows);
    }
  }
  Result<std::string> r = RunCaptured({importer, "--rows", rows, "--to", path}, 600000);
  std::error_code ec;
  std::filesystem::remove(rows, ec);
  if (!r.ok()) return Status::Invalid("--jobs-h5 " + path + ": " + r.status().message());
  return Status::Ok();
}

}  // namespace corral::cli
