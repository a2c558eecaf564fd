#include "accounting/hdf5_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "accounting/hdf5_call.h"
#include "accounting/table_codecs.h"

namespace corral {

using namespace acct_internal;  // NOLINT(build/namespaces): this module's internals

// One table: its dataset (invalid when the file has none) and the type to read it with.
struct ReadTable {
  Hid dset, type;
};

struct AccountingReader::State {
  Hid file;
  ReadTable jobs, steps, usage;
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

namespace {

// Opens Codec's table, if the file has it (or must have it: `required`).
template <class Codec>
Status OpenTable(const std::string& path, hid_t file, bool required, ReadTable* t) {
  htri_t exists = H5Lexists(file, Codec::kPath, H5P_DEFAULT);
  if (exists < 0) {
    return Status::Internal(path + ": cannot look up " + Codec::kPath + ": " + Hdf5ErrorText());
  }
  if (exists == 0 && !required) return Status::Ok();
  t->dset = Hid(exists > 0 ? H5Dopen2(file, Codec::kPath, H5P_DEFAULT) : -1);
  if (!t->dset.valid()) {
    H5Eclear2(H5E_DEFAULT);
    if (!required) return Status::Ok();  // an older layout's empty group
    return Status::Invalid(path + ": no table " + Codec::kPath);
  }
  Status st = CheckTable(t->dset.get(), Codec::kPath, Codec::kKey);
  if (!st.ok()) return Status::Invalid(path + ": " + st.message());
  Hid mem = Codec::Type();
  t->type = mem.valid() ? ReadType(t->dset.get(), mem.get()) : Hid();
  if (!t->type.valid()) {
    return Status::Internal(path + ": cannot build the row type of " + Codec::kPath + ": " +
                            Hdf5ErrorText());
  }
  return Status::Ok();
}

template <class Codec, class Keep>
Result<std::vector<typename Codec::Record>> Refresh(const std::string& path, const ReadTable& t,
                                                    Keep keep) {
  if (!t.dset.valid()) return std::vector<typename Codec::Record>{};
  if (H5Drefresh(t.dset.get()) < 0) {
    return Status::Internal(path + ": cannot refresh " + Codec::kPath + ": " + Hdf5ErrorText());
  }
  auto rows = ReadRecords<Codec>(t.dset.get(), t.type.get(), 0, -1, keep);
  if (!rows.ok()) return Status::Internal(path + ": " + rows.status().message());
  return rows;
}

}  // namespace

Result<std::unique_ptr<AccountingReader>> AccountingReader::Open(const std::string& path) {
  Hdf5Call call;
  Status st = CheckReadable(path);
  if (!st.ok()) return st;
  auto state = std::make_unique<State>();
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
  hid_t f = state->file.get();
  st = OpenTable<JobTable>(path, f, true, &state->jobs);
  if (st.ok()) st = OpenTable<StepTable>(path, f, false, &state->steps);
  if (st.ok()) st = OpenTable<UsageTable>(path, f, false, &state->usage);
  if (!st.ok()) return st;
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
  return Refresh<JobTable>(path_, state_->jobs, [](const JobRecord&) { return true; });
}

Result<std::vector<StepRecord>> AccountingReader::ReadSteps(const std::set<JobId>& jobs) {
  Hdf5Call call;
  return Refresh<StepTable>(path_, state_->steps, [&](const StepRecord& r) {
    return jobs.empty() || jobs.count(r.job_id);
  });
}

Result<std::vector<UsageSample>> AccountingReader::ReadUsage(const std::set<JobId>& jobs) {
  Hdf5Call call;
  return Refresh<UsageTable>(path_, state_->usage,
                             [&](const UsageSample& r) { return jobs.count(r.job_id) > 0; });
}

}  // namespace corral
