#include "accounting/job_record_h5.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

namespace corral::acct_internal {
namespace {

// Rows per chunk: one 1-row append rewrites one chunk, a batch touches few.
constexpr hsize_t kChunkRows = 64;
// Rows converted per read, to bound the temporary buffer on large tables.
constexpr size_t kReadBlockRows = 4096;

// One row as stored. Fields are ordered so that the struct has no padding: the file type is
// the memory type and HDF5 copies rows without conversion.
struct JobRow {
  int64_t job_id;
  int64_t submit_ms, start_ms, end_ms;
  int64_t cpu_ms, gpu_ms, energy_mj, cost_micro;
  int32_t nnodes, ncpus, ngpus, exit_code;
  char name[kJobNameBytes];
  char user[kJobUserBytes];
  char account[kJobAccountBytes];
  char partition[kJobPartitionBytes];
  char state[kJobStateBytes];
  char nodelist[kJobNodelistBytes];
  char gpu_models[kJobGpuModelsBytes];
};
static_assert(sizeof(JobRow) == 8 * 8 + 4 * 4 + kJobNameBytes + kJobUserBytes + kJobAccountBytes +
                                    kJobPartitionBytes + kJobStateBytes + kJobNodelistBytes +
                                    kJobGpuModelsBytes,
              "JobRow must have no padding");

// Copies `s` into a NUL-padded column, cutting at a UTF-8 character boundary if too long.
template <size_t N>
void PutString(const std::string& s, char (&col)[N]) {
  size_t n = s.size();
  if (n > N) {
    n = N;
    // Back off over continuation bytes (10xxxxxx) so no character is split.
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::memcpy(col, s.data(), n);
  std::memset(col + n, 0, N - n);
}

template <size_t N>
std::string GetString(const char (&col)[N]) {
  return std::string(col, strnlen(col, N));
}

JobRow ToRow(const JobRecord& r) {
  JobRow w;
  w.job_id = r.job_id;
  w.submit_ms = r.submit_ms;
  w.start_ms = r.start_ms;
  w.end_ms = r.end_ms;
  w.cpu_ms = r.cpu_ms;
  w.gpu_ms = r.gpu_ms;
  w.energy_mj = r.energy_mj;
  w.cost_micro = r.cost_micro;
  w.nnodes = r.nnodes;
  w.ncpus = r.ncpus;
  w.ngpus = r.ngpus;
  w.exit_code = r.exit_code;
  PutString(r.name, w.name);
  PutString(r.user, w.user);
  PutString(r.account, w.account);
  PutString(r.partition, w.partition);
  PutString(r.state, w.state);
  PutString(r.nodelist, w.nodelist);
  PutString(r.gpu_models, w.gpu_models);
  return w;
}

JobRecord FromRow(const JobRow& w) {
  JobRecord r;
  r.job_id = w.job_id;
  r.submit_ms = w.submit_ms;
  r.start_ms = w.start_ms;
  r.end_ms = w.end_ms;
  r.cpu_ms = w.cpu_ms;
  r.gpu_ms = w.gpu_ms;
  r.energy_mj = w.energy_mj;
  r.cost_micro = w.cost_micro;
  r.nnodes = w.nnodes;
  r.ncpus = w.ncpus;
  r.ngpus = w.ngpus;
  r.exit_code = w.exit_code;
  r.name = GetString(w.name);
  r.user = GetString(w.user);
  r.account = GetString(w.account);
  r.partition = GetString(w.partition);
  r.state = GetString(w.state);
  r.nodelist = GetString(w.nodelist);
  r.gpu_models = GetString(w.gpu_models);
  return r;
}

bool InsertString(hid_t type, const char* name, size_t offset, size_t bytes) {
  Hid s(H5Tcopy(H5T_C_S1));
  return s.valid() && H5Tset_size(s.get(), bytes) >= 0 &&
         H5Tset_strpad(s.get(), H5T_STR_NULLPAD) >= 0 && H5Tset_cset(s.get(), H5T_CSET_UTF8) >= 0 &&
         H5Tinsert(type, name, offset, s.get()) >= 0;
}

Status HdfError(const std::string& what) {
  return Status::Internal(what + ": " + Hdf5ErrorText());
}

// Selects rows [first, first + count) of `dset` into a new file space.
Hid SelectRows(hid_t dset, hsize_t first, hsize_t count) {
  Hid space(H5Dget_space(dset));
  if (!space.valid() ||
      H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &first, nullptr, &count, nullptr) < 0) {
    return Hid();
  }
  return space;
}

}  // namespace

#define JOB_INT(field, h5type) H5Tinsert(t.get(), #field, offsetof(JobRow, field), h5type) >= 0
#define JOB_STR(field) InsertString(t.get(), #field, offsetof(JobRow, field), sizeof(JobRow::field))

Hid MakeJobRowType() {
  Hid t(H5Tcreate(H5T_COMPOUND, sizeof(JobRow)));
  bool ok = t.valid() && JOB_INT(job_id, H5T_NATIVE_INT64) && JOB_STR(name) && JOB_STR(user) &&
            JOB_STR(account) && JOB_STR(partition) && JOB_STR(state) && JOB_STR(nodelist) &&
            JOB_STR(gpu_models) && JOB_INT(nnodes, H5T_NATIVE_INT32) &&
            JOB_INT(ncpus, H5T_NATIVE_INT32) && JOB_INT(ngpus, H5T_NATIVE_INT32) &&
            JOB_INT(exit_code, H5T_NATIVE_INT32) && JOB_INT(submit_ms, H5T_NATIVE_INT64) &&
            JOB_INT(start_ms, H5T_NATIVE_INT64) && JOB_INT(end_ms, H5T_NATIVE_INT64) &&
            JOB_INT(cpu_ms, H5T_NATIVE_INT64) && JOB_INT(gpu_ms, H5T_NATIVE_INT64) &&
            JOB_INT(energy_mj, H5T_NATIVE_INT64) && JOB_INT(cost_micro, H5T_NATIVE_INT64);
  return ok ? std::move(t) : Hid();
}

#undef JOB_INT
#undef JOB_STR

Hid CreateJobsDataset(hid_t file, hid_t row_type) {
  hsize_t dims = 0, max_dims = H5S_UNLIMITED, chunk = kChunkRows;
  Hid space(H5Screate_simple(1, &dims, &max_dims));
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (!space.valid() || !dcpl.valid() || H5Pset_chunk(dcpl.get(), 1, &chunk) < 0) return Hid();
  return Hid(
      H5Dcreate2(file, kJobsPath, row_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
}

Status CheckJobsDataset(hid_t dset, hid_t row_type) {
  Hid space(H5Dget_space(dset));
  Hid type(H5Dget_type(dset));
  if (!space.valid() || !type.valid()) return HdfError("cannot inspect /jobs");
  if (H5Sget_simple_extent_ndims(space.get()) != 1 || H5Tget_class(type.get()) != H5T_COMPOUND) {
    return Status::Invalid("/jobs is not a 1-D table of compound rows");
  }
  int members = H5Tget_nmembers(row_type);
  for (int i = 0; i < members; ++i) {
    char* name = H5Tget_member_name(row_type, static_cast<unsigned>(i));
    std::string column = name != nullptr ? name : "";
    H5free_memory(name);
    if (H5Tget_member_index(type.get(), column.c_str()) < 0) {
      H5Eclear2(H5E_DEFAULT);
      return Status::Invalid("/jobs has no column '" + column + "'");
    }
  }
  return Status::Ok();
}

int64_t CountJobs(hid_t dset) {
  Hid space(H5Dget_space(dset));
  hsize_t dims = 0;
  if (!space.valid() || H5Sget_simple_extent_dims(space.get(), &dims, nullptr) != 1) return -1;
  return static_cast<int64_t>(dims);
}

Result<std::vector<JobRecord>> ReadJobs(hid_t dset, hid_t row_type) {
  int64_t total = CountJobs(dset);
  if (total < 0) return HdfError("cannot read the size of /jobs");
  std::vector<JobRecord> out;
  out.reserve(static_cast<size_t>(total));
  std::vector<JobRow> block(std::min(static_cast<size_t>(total), kReadBlockRows));
  for (hsize_t first = 0; first < static_cast<hsize_t>(total); first += block.size()) {
    hsize_t count = std::min<hsize_t>(block.size(), static_cast<hsize_t>(total) - first);
    Hid file_space = SelectRows(dset, first, count);
    Hid mem_space(H5Screate_simple(1, &count, nullptr));
    if (!file_space.valid() || !mem_space.valid() ||
        H5Dread(dset, row_type, mem_space.get(), file_space.get(), H5P_DEFAULT, block.data()) < 0) {
      return HdfError("cannot read rows of /jobs");
    }
    for (hsize_t i = 0; i < count; ++i) out.push_back(FromRow(block[i]));
  }
  return out;
}

Status AppendJobs(hid_t dset, hid_t row_type, int64_t old_rows,
                  const std::vector<JobRecord>& rows) {
  if (rows.empty()) return Status::Ok();
  std::vector<JobRow> buf;
  buf.reserve(rows.size());
  for (const JobRecord& r : rows) buf.push_back(ToRow(r));
  hsize_t first = static_cast<hsize_t>(old_rows), count = buf.size(), size = first + count;
  if (H5Dset_extent(dset, &size) < 0) return HdfError("cannot grow /jobs");
  Hid file_space = SelectRows(dset, first, count);
  Hid mem_space(H5Screate_simple(1, &count, nullptr));
  if (!file_space.valid() || !mem_space.valid() ||
      H5Dwrite(dset, row_type, mem_space.get(), file_space.get(), H5P_DEFAULT, buf.data()) < 0) {
    return HdfError("cannot write rows to /jobs");
  }
  return Status::Ok();
}

}  // namespace corral::acct_internal
