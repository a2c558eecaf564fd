#include "accounting/hdf5_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "accounting/hdf5_call.h"
#include "accounting/job_record_h5.h"

namespace corral {

using acct_internal::Hdf5Call;
using acct_internal::Hdf5ErrorText;
using acct_internal::Hid;

struct AccountingReader::State {
  Hid row_type;
  Hid file;
  Hid jobs;
};

namespace {

// Checks what HDF5 would only report vaguely: that `path` is a regular HDF5 file.
Status CheckReadable(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    int err = errno;
    std::string msg = path + ": " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(msg) : Status::Invalid(msg);
  }
  if (S_ISDIR(st.st_mode)) return Status::Invalid(path + ": is a directory, not an HDF5 file");
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return Status::Invalid(path + ": not an HDF5 file");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<AccountingReader>> AccountingReader::Open(const std::string& path) {
  Hdf5Call call;
  Status st = CheckReadable(path);
  if (!st.ok()) return st;
  auto state = std::make_unique<State>();
  state->row_type = acct_internal::MakeJobRowType();
  if (!state->row_type.valid()) {
    return Status::Internal(path + ": cannot build the row type: " + Hdf5ErrorText());
  }
  // Without HDF5's flock(): a SWMR reader needs none, and its shared lock would stop a
  // restarted writer from opening the file. AccountingWriter turns it off too, as HDF5 wants
  // the same setting for every open of one file in a process.
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl.valid() || H5Pset_file_locking(fapl.get(), false, true) < 0) {
    return Status::Internal(path + ": cannot set up file access: " + Hdf5ErrorText());
  }
  state->file = Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl.get()));
  if (!state->file.valid()) {
    return Status::Internal(path + ": cannot open for SWMR reading: " + Hdf5ErrorText());
  }
  state->jobs = Hid(H5Dopen2(state->file.get(), acct_internal::kJobsPath, H5P_DEFAULT));
  if (!state->jobs.valid()) {
    return Status::Invalid(path + ": no job table /jobs: " + Hdf5ErrorText());
  }
  st = acct_internal::CheckJobsDataset(state->jobs.get(), state->row_type.get());
  if (!st.ok()) return Status::Invalid(path + ": " + st.message());
  return std::unique_ptr<AccountingReader>(new AccountingReader(path, std::move(state)));
}

AccountingReader::AccountingReader(std::string path, std::unique_ptr<State> state)
    : path_(std::move(path)), state_(std::move(state)) {}

AccountingReader::~AccountingReader() {
  Hdf5Call call;
  state_.reset();
}

Result<std::vector<JobRecord>> AccountingReader::ReadAll() {
  Hdf5Call call;
  if (H5Drefresh(state_->jobs.get()) < 0) {
    return Status::Internal(path_ + ": cannot refresh /jobs: " + Hdf5ErrorText());
  }
  Result<std::vector<JobRecord>> rows =
      acct_internal::ReadJobs(state_->jobs.get(), state_->row_type.get());
  if (!rows.ok()) return Status::Internal(path_ + ": " + rows.status().message());
  return rows;
}

}  // namespace corral
