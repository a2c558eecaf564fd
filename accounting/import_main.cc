// corral-acct-import: writes job records into a new accounting HDF5 file through the accounting
// module's own writer (hdf5_writer.h), so that what `corral sim --jobs-h5` writes is the /jobs
// table corrald writes, read by the same readers (corral acct, h5py). The records come one
// JSON object per line, with JobRecord's field names (job_record.h); missing fields are zero or
// empty. A line that is not such an object fails the whole import, naming the line and the
// field, and no file is left behind.
//
//   corral-acct-import --rows FILE.jsonl --to NEW.h5
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accounting/hdf5_writer.h"

namespace {

using corral::JobRecord;
using corral::Status;

// Reads field `k` of `o` into `out` when present; false (with `why` set) when it has the wrong
// type or range.
template <typename T>
bool Field(const nlohmann::json& o, const char* k, T* out, std::string* why) {
  auto it = o.find(k);
  if (it == o.end() || it->is_null()) return true;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return *why = std::string(k) + ": must be a string", false;
    *out = it->get<std::string>();
  } else {
    if (!it->is_number_integer()) return *why = std::string(k) + ": must be an integer", false;
    if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(std::numeric_limits<T>::max())) {
      return *why = std::string(k) + ": out of range", false;
    }
    const int64_t v = it->get<int64_t>();
    if (v < int64_t(std::numeric_limits<T>::min()) || v > int64_t(std::numeric_limits<T>::max())) {
      return *why = std::string(k) + ": out of range", false;
    }
    *out = static_cast<T>(v);
  }
  return true;
}

bool Parse(const std::string& line, JobRecord* r, std::string* why) {
  nlohmann::json o = nlohmann::json::parse(line, nullptr, false);
  if (o.is_discarded() || !o.is_object()) return *why = "not a JSON object", false;
  return Field(o, "job_id", &r->job_id, why) && Field(o, "name", &r->name, why) &&
         Field(o, "user", &r->user, why) && Field(o, "account", &r->account, why) &&
         Field(o, "partition", &r->partition, why) && Field(o, "nodelist", &r->nodelist, why) &&
         Field(o, "gpu_models", &r->gpu_models, why) && Field(o, "state", &r->state, why) &&
         Field(o, "nnodes", &r->nnodes, why) && Field(o, "ncpus", &r->ncpus, why) &&
         Field(o, "ngpus", &r->ngpus, why) && Field(o, "exit_code", &r->exit_code, why) &&
         Field(o, "submit_ms", &r->submit_ms, why) && Field(o, "start_ms", &r->start_ms, why) &&
         Field(o, "end_ms", &r->end_ms, why) && Field(o, "cpu_ms", &r->cpu_ms, why) &&
         Field(o, "gpu_ms", &r->gpu_ms, why) && Field(o, "energy_mj", &r->energy_mj, why) &&
         Field(o, "cost_micro", &r->cost_micro, why) && Field(o, "qos", &r->qos, why) &&
         Field(o, "restarts", &r->restarts, why) && Field(o, "eligible_ms", &r->eligible_ms, why) &&
         Field(o, "cpu_used_ms", &r->cpu_used_ms, why) &&
         Field(o, "max_rss_bytes", &r->max_rss_bytes, why);
}

int Fail(const std::string& m) {
  std::cerr << "corral-acct-import: " << m << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string rows_path, to;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--rows" || a == "--to") && i + 1 < argc) {
      (a == "--rows" ? rows_path : to) = argv[++i];
    } else {
      std::cerr << "usage: corral-acct-import --rows FILE.jsonl --to NEW.h5\n";
      return a == "--help" ? 0 : 2;
    }
  }
  if (rows_path.empty() || to.empty()) {
    std::cerr << "usage: corral-acct-import --rows FILE.jsonl --to NEW.h5\n";
    return 2;
  }
  std::error_code ec;
  if (std::filesystem::exists(to, ec)) return Fail(to + ": exists (give a new file)");
  std::ifstream in(rows_path);
  if (!in) return Fail(rows_path + ": cannot be read");
  std::vector<JobRecord> rows;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    JobRecord r;
    std::string why;
    if (!Parse(line, &r, &why)) return Fail(rows_path + ": line " + std::to_string(n) + ": " + why);
    rows.push_back(std::move(r));
  }
  auto w = corral::AccountingWriter::Open(to);
  if (!w.ok()) return Fail(w.status().message());
  // In batches: one write per 64k rows keeps memory for HDF5's conversion buffers bounded.
  for (size_t k = 0; k < rows.size(); k += 65536) {
    std::vector<JobRecord> batch(rows.begin() + k, rows.begin() + std::min(rows.size(), k + 65536));
    if (Status s = (*w)->Append(batch); !s.ok()) {
      (*w)->Close();
      std::filesystem::remove(to, ec);
      return Fail(s.message());
    }
  }
  if (Status s = (*w)->Close(); !s.ok()) {
    std::filesystem::remove(to, ec);
    return Fail(s.message());
  }
  std::cout << rows.size() << " rows\n";
  return 0;
}
