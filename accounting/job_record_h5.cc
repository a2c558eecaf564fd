// The /jobs table's rows (table_codecs.h).
#include <cstddef>
#include <cstring>

#include "accounting/table_codecs.h"

namespace corral::acct_internal {
namespace {

// One row as stored. Fields are ordered so that the struct has no padding: the file type is
// the memory type and HDF5 copies rows without conversion.
struct JobRow {
  int64_t job_id;
  int64_t submit_ms, eligible_ms, start_ms, end_ms;
  int64_t cpu_ms, gpu_ms, cpu_used_ms, max_rss_bytes, energy_mj, cost_micro;
  int32_t nnodes, ncpus, ngpus, exit_code, restarts, pad_;
  char name[kJobNameBytes];
  char user[kJobUserBytes];
  char account[kJobAccountBytes];
  char partition[kJobPartitionBytes];
  char qos[kJobQosBytes];
  char state[kJobStateBytes];
  char nodelist[kJobNodelistBytes];
  char gpu_models[kJobGpuModelsBytes];
};
static_assert(sizeof(JobRow) == 11 * 8 + 6 * 4 + kJobNameBytes + kJobUserBytes + kJobAccountBytes +
                                    kJobPartitionBytes + kJobQosBytes + kJobStateBytes +
                                    kJobNodelistBytes + kJobGpuModelsBytes,
              "JobRow must have no padding");

}  // namespace

size_t JobTable::RowBytes() {
  return sizeof(JobRow);
}

void JobTable::Encode(const JobRecord& r, std::byte* out) {
  JobRow w{};
  w.job_id = r.job_id;
  w.submit_ms = r.submit_ms;
  w.eligible_ms = r.eligible_ms;
  w.start_ms = r.start_ms;
  w.end_ms = r.end_ms;
  w.cpu_ms = r.cpu_ms;
  w.gpu_ms = r.gpu_ms;
  w.cpu_used_ms = r.cpu_used_ms;
  w.max_rss_bytes = r.max_rss_bytes;
  w.energy_mj = r.energy_mj;
  w.cost_micro = r.cost_micro;
  w.nnodes = r.nnodes;
  w.ncpus = r.ncpus;
  w.ngpus = r.ngpus;
  w.exit_code = r.exit_code;
  w.restarts = r.restarts;
  PutString(r.name, w.name);
  PutString(r.user, w.user);
  PutString(r.account, w.account);
  PutString(r.partition, w.partition);
  PutString(r.qos, w.qos);
  PutString(r.state, w.state);
  PutString(r.nodelist, w.nodelist);
  PutString(r.gpu_models, w.gpu_models);
  std::memcpy(out, &w, sizeof w);
}

JobRecord JobTable::Decode(const std::byte* in) {
  JobRow w;
  std::memcpy(&w, in, sizeof w);
  JobRecord r;
  r.job_id = w.job_id;
  r.submit_ms = w.submit_ms;
  r.eligible_ms = w.eligible_ms;
  r.start_ms = w.start_ms;
  r.end_ms = w.end_ms;
  r.cpu_ms = w.cpu_ms;
  r.gpu_ms = w.gpu_ms;
  r.cpu_used_ms = w.cpu_used_ms;
  r.max_rss_bytes = w.max_rss_bytes;
  r.energy_mj = w.energy_mj;
  r.cost_micro = w.cost_micro;
  r.nnodes = w.nnodes;
  r.ncpus = w.ncpus;
  r.ngpus = w.ngpus;
  r.exit_code = w.exit_code;
  r.restarts = w.restarts;
  r.name = GetString(w.name);
  r.user = GetString(w.user);
  r.account = GetString(w.account);
  r.partition = GetString(w.partition);
  r.qos = GetString(w.qos);
  r.state = GetString(w.state);
  r.nodelist = GetString(w.nodelist);
  r.gpu_models = GetString(w.gpu_models);
  return r;
}

#define COL_INT(field, h5type) H5Tinsert(t.get(), #field, offsetof(JobRow, field), h5type) >= 0
#define COL_STR(field) InsertString(t.get(), #field, offsetof(JobRow, field), sizeof(JobRow::field))

Hid JobTable::Type() {
  Hid t(H5Tcreate(H5T_COMPOUND, sizeof(JobRow)));
  bool ok = t.valid() && COL_INT(job_id, H5T_NATIVE_INT64) && COL_STR(name) && COL_STR(user) &&
            COL_STR(account) && COL_STR(partition) && COL_STR(qos) && COL_STR(state) &&
            COL_STR(nodelist) && COL_STR(gpu_models) && COL_INT(nnodes, H5T_NATIVE_INT32) &&
            COL_INT(ncpus, H5T_NATIVE_INT32) && COL_INT(ngpus, H5T_NATIVE_INT32) &&
            COL_INT(exit_code, H5T_NATIVE_INT32) && COL_INT(restarts, H5T_NATIVE_INT32) &&
            COL_INT(submit_ms, H5T_NATIVE_INT64) && COL_INT(eligible_ms, H5T_NATIVE_INT64) &&
            COL_INT(start_ms, H5T_NATIVE_INT64) && COL_INT(end_ms, H5T_NATIVE_INT64) &&
            COL_INT(cpu_ms, H5T_NATIVE_INT64) && COL_INT(gpu_ms, H5T_NATIVE_INT64) &&
            COL_INT(cpu_used_ms, H5T_NATIVE_INT64) && COL_INT(max_rss_bytes, H5T_NATIVE_INT64) &&
            COL_INT(energy_mj, H5T_NATIVE_INT64) && COL_INT(cost_micro, H5T_NATIVE_INT64);
  return ok ? std::move(t) : Hid();
}

}  // namespace corral::acct_internal
