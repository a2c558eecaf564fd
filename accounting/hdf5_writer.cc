#include "accounting/hdf5_writer.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <utility>

#include "accounting/hdf5_call.h"
#include "accounting/job_record_h5.h"
#include "accounting/writer_lock.h"

namespace corral {

using acct_internal::Hdf5Call;
using acct_internal::Hdf5ErrorText;
using acct_internal::Hid;
using acct_internal::WriterLock;

struct AccountingWriter::State {
  std::optional<WriterLock> lock;  // declared first: released after the file is closed
  Hid row_type;
  Hid file;
  Hid jobs;
  int64_t rows = 0;
  mutable std::mutex mu;
};

namespace {

// Groups of the layout. They hold nothing yet; their datasets must be created in Open too,
// before SWMR write mode starts.
constexpr const char* kLayoutGroups[] = {"/usage", "/nodes", "/settlements"};

// The private file-access property behind `h5clear -s` (H5Fprivate.h, HDF5 1.10 and later).
constexpr char kClearStatusFlags[] = "clear_status_flags";

Status HdfError(const std::string& path, const std::string& what) {
  return Status::Internal(path + ": " + what + ": " + Hdf5ErrorText());
}

// File access for writing: the latest format (SWMR needs it), HDF5's flock() off as in
// AccountingReader (WriterLock and the superblock's SWMR flag keep writers apart instead; see
// writer_lock.h), and the stale-flag clearing.
Hid WriterAccess(bool clear_status_flags) {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl.valid() || H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0 ||
      H5Pset_file_locking(fapl.get(), false, true) < 0) {
    return Hid();
  }
  hbool_t clear = true;
  if (clear_status_flags && H5Pexist(fapl.get(), kClearStatusFlags) > 0 &&
      H5Pset(fapl.get(), kClearStatusFlags, &clear) < 0) {
    return Hid();
  }
  return fapl;
}

// A SWMR writer's flushes do not rewrite the superblock, so after a writer dies without
// closing, the end-of-allocation (EOA) recorded there may lie before data it did flush, which
// HDF5 then refuses to read. Moving the EOA to the end of the file (what `h5clear
// --increment=0` does) makes that data reachable again. Files closed cleanly are not touched.
Status RepairEndOfAllocation(const std::string& path, hid_t file, int64_t file_bytes) {
  haddr_t eoa = 0;
  if (H5Fget_eoa(file, &eoa) < 0) return HdfError(path, "cannot read the end of allocation");
  if (file_bytes <= 0 || static_cast<haddr_t>(file_bytes) <= eoa) return Status::Ok();
  if (H5Fincrement_filesize(file, 0) < 0) {
    return HdfError(path, "cannot repair the end of allocation");
  }
  spdlog::warn(
      "accounting: {}: the last writer did not close it; end of allocation moved from {} "
      "to {} bytes",
      path, eoa, file_bytes);
  return Status::Ok();
}

Result<Hid> OpenOrCreateFile(const std::string& path, const WriterLock& lock) {
  if (lock.size_at_acquire() == 0) {  // new, or left empty by an Open that failed
    Hid fapl = WriterAccess(false);
    Hid file(fapl.valid() ? H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()) : -1);
    if (!file.valid()) return HdfError(path, "cannot create the accounting file");
    return file;
  }
  htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return Status::Invalid(path + ": not an HDF5 file (" + std::to_string(lock.size_at_acquire()) +
                           " bytes); left untouched");
  }
  Hid fapl = WriterAccess(true);
  Hid file(fapl.valid() ? H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()) : -1);
  if (!file.valid()) return HdfError(path, "cannot open the accounting file for writing");
  Status st = RepairEndOfAllocation(path, file.get(), lock.size_at_acquire());
  if (!st.ok()) return st;
  return file;
}

// Opens /jobs and checks its shape, or creates it if absent; creates the groups the file
// lacks. Changes nothing when /jobs is there but is not a job table.
Result<Hid> PrepareLayout(const std::string& path, hid_t file, hid_t row_type) {
  htri_t exists = H5Lexists(file, acct_internal::kJobsPath, H5P_DEFAULT);
  if (exists < 0) return HdfError(path, "cannot look up /jobs");
  Hid jobs;
  if (exists > 0) {
    jobs = Hid(H5Dopen2(file, acct_internal::kJobsPath, H5P_DEFAULT));
    if (!jobs.valid()) {
      return Status::Invalid(path + ": /jobs is not a dataset: " + Hdf5ErrorText());
    }
    Status st = acct_internal::CheckJobsDataset(jobs.get(), row_type);
    if (!st.ok()) return Status(Status::Invalid(path + ": " + st.message()));
  }
  for (const char* group : kLayoutGroups) {
    htri_t group_exists = H5Lexists(file, group, H5P_DEFAULT);
    if (group_exists < 0) return HdfError(path, std::string("cannot look up ") + group);
    if (group_exists == 0) {
      Hid g(H5Gcreate2(file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      if (!g.valid()) return HdfError(path, std::string("cannot create ") + group);
    }
  }
  if (!jobs.valid()) {
    jobs = acct_internal::CreateJobsDataset(file, row_type);
    if (!jobs.valid()) return HdfError(path, "cannot create /jobs");
  }
  return jobs;
}

}  // namespace

Result<std::unique_ptr<AccountingWriter>> AccountingWriter::Open(const std::string& path) {
  Hdf5Call call;
  Result<WriterLock> lock = WriterLock::Acquire(path);
  if (!lock.ok()) return lock.status();
  auto state = std::make_unique<State>();
  state->lock.emplace(std::move(lock).value());
  state->row_type = acct_internal::MakeJobRowType();
  if (!state->row_type.valid()) return HdfError(path, "cannot build the row type");

  Result<Hid> file = OpenOrCreateFile(path, *state->lock);
  if (!file.ok()) return file.status();
  state->file = std::move(file).value();
  Result<Hid> jobs = PrepareLayout(path, state->file.get(), state->row_type.get());
  if (!jobs.ok()) return jobs.status();
  state->jobs = std::move(jobs).value();
  state->rows = acct_internal::CountJobs(state->jobs.get());
  if (state->rows < 0) return HdfError(path, "cannot read the size of /jobs");
  if (H5Fstart_swmr_write(state->file.get()) < 0) {
    return HdfError(path, "cannot start SWMR write mode");
  }
  return std::unique_ptr<AccountingWriter>(new AccountingWriter(path, std::move(state)));
}

AccountingWriter::AccountingWriter(std::string path, std::unique_ptr<State> state)
    : path_(std::move(path)), state_(std::move(state)) {}

AccountingWriter::~AccountingWriter() {
  Status st = Close();
  if (!st.ok()) spdlog::warn("accounting: {}", st.message());
}

Status AccountingWriter::Close() {
  Hdf5Call call;
  std::lock_guard<std::mutex> hold(state_->mu);
  if (!state_->file.valid()) return Status::Ok();
  bool ok = state_->jobs.Reset();
  ok = state_->file.Reset() && ok;  // H5Fclose flushes and clears the SWMR flag
  std::string why = ok ? "" : Hdf5ErrorText();
  state_->lock.reset();
  if (!ok) return Status::Internal(path_ + ": closing the accounting file: " + why);
  return Status::Ok();
}

Status AccountingWriter::Append(const std::vector<JobRecord>& rows) {
  Hdf5Call call;
  std::lock_guard<std::mutex> hold(state_->mu);
  if (!state_->file.valid()) return Status::FailedPrecondition(path_ + ": writer is closed");
  if (rows.empty()) return Status::Ok();
  hid_t jobs = state_->jobs.get();
  Status st = acct_internal::AppendJobs(jobs, state_->row_type.get(), state_->rows, rows);
  if (st.ok() && H5Dflush(jobs) < 0) st = HdfError(path_, "cannot flush /jobs");
  if (!st.ok()) {
    hsize_t old_size = static_cast<hsize_t>(state_->rows);
    H5Dset_extent(jobs, &old_size);  // best effort: readers must not see half an append
    H5Dflush(jobs);
    H5Eclear2(H5E_DEFAULT);
    return Status::Internal(path_ + ": appending " + std::to_string(rows.size()) +
                            " rows: " + st.message());
  }
  state_->rows += static_cast<int64_t>(rows.size());
  return Status::Ok();
}

Result<std::vector<JobRecord>> AccountingWriter::ReadAll() const {
  Hdf5Call call;
  std::lock_guard<std::mutex> hold(state_->mu);
  if (!state_->file.valid()) return Status::FailedPrecondition(path_ + ": writer is closed");
  Result<std::vector<JobRecord>> rows =
      acct_internal::ReadJobs(state_->jobs.get(), state_->row_type.get());
  if (!rows.ok()) return Status::Internal(path_ + ": " + rows.status().message());
  return rows;
}

int64_t AccountingWriter::size() const {
  std::lock_guard<std::mutex> hold(state_->mu);
  return state_->rows;
}

}  // namespace corral
