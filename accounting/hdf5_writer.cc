#include "accounting/hdf5_writer.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <utility>

#include "accounting/hdf5_call.h"
#include "accounting/table_codecs.h"
#include "accounting/writer_lock.h"

namespace corral {

using namespace acct_internal;  // NOLINT(build/namespaces): this module's internals

// One table of the file, open for appending.
struct Table {
  Hid dset, type;
  int64_t rows = 0;
};

struct AccountingWriter::State {
  std::optional<WriterLock> lock;  // declared first: released after the file is closed
  Hid file;
  Table jobs, steps, usage;
  mutable std::mutex mu;
};

namespace {

// Groups of the layout. They hold nothing yet; their datasets must be created in Open too,
// before SWMR write mode starts.
constexpr const char* kLayoutGroups[] = {"/nodes", "/settlements"};

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

bool Exists(hid_t file, const std::string& path, Status* err, const std::string& file_path) {
  htri_t e = H5Lexists(file, path.c_str(), H5P_DEFAULT);
  if (e < 0) *err = HdfError(file_path, "cannot look up " + path);
  return e > 0;
}

// Rewrites `old` (the table at Codec::kPath, which lacks some columns) with every column: the
// rows go to a new dataset beside it, which then takes its name. Before SWMR write mode.
template <class Codec>
Result<Hid> MigrateTable(const std::string& file_path, hid_t file, Hid old, hid_t type,
                         const std::vector<std::string>& missing) {
  const std::string path = Codec::kPath, fresh = path + ".new";
  Hid read_type = ReadType(old.get(), type);
  if (!read_type.valid()) return HdfError(file_path, "cannot read the old " + path);
  auto rows = ReadAllRecords<Codec>(old.get(), read_type.get());
  if (!rows.ok()) return Status::Internal(file_path + ": " + path + ": " + rows.status().message());
  old.Reset();
  Hid copy = CreateTable(file, fresh.c_str(), type);
  if (!copy.valid()) return HdfError(file_path, "cannot create " + fresh);
  Status st = AppendRecords<Codec>(copy.get(), type, 0, *rows);
  if (!st.ok()) return Status::Internal(file_path + ": " + fresh + ": " + st.message());
  copy.Reset();
  if (H5Ldelete(file, path.c_str(), H5P_DEFAULT) < 0 ||
      H5Lmove(file, fresh.c_str(), file, path.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0) {
    return HdfError(file_path, "cannot replace " + path + " by its upgrade");
  }
  std::string cols;
  for (const std::string& c : missing) cols += (cols.empty() ? "" : ", ") + c;
  spdlog::warn("accounting: {}: {} upgraded: {} row(s) copied, new column(s) {}", file_path, path,
               rows->size(), cols);
  Hid dset(H5Dopen2(file, path.c_str(), H5P_DEFAULT));
  if (!dset.valid()) return HdfError(file_path, "cannot open the upgraded " + path);
  return dset;
}

// Opens Codec's table and checks its shape, upgrading it if it lacks columns, or creates it if
// absent. Changes nothing when the name is taken by something that is not such a table.
template <class Codec>
Status PrepareTable(const std::string& file_path, hid_t file, Table* t) {
  const std::string path = Codec::kPath, fresh = path + ".new";
  t->type = Codec::Type();
  if (!t->type.valid()) return HdfError(file_path, "cannot build the row type of " + path);
  Status err;
  bool exists = Exists(file, path, &err, file_path);
  bool leftover = err.ok() && Exists(file, fresh, &err, file_path);
  if (!err.ok()) return err;
  if (leftover) {  // an upgrade that stopped half-way: finish or forget it
    herr_t r = exists ? H5Ldelete(file, fresh.c_str(), H5P_DEFAULT)
                      : H5Lmove(file, fresh.c_str(), file, path.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    if (r < 0) return HdfError(file_path, "cannot clear the unfinished upgrade " + fresh);
    exists = true;
  }
  if (exists) {
    Hid dset(H5Dopen2(file, path.c_str(), H5P_DEFAULT));
    if (!dset.valid()) {
      H5Eclear2(H5E_DEFAULT);
      // Earlier layouts had an empty group here; one that holds anything is not ours to drop.
      Hid g(H5Gopen2(file, path.c_str(), H5P_DEFAULT));
      H5G_info_t info;
      if (!g.valid() || H5Gget_info(g.get(), &info) < 0 || info.nlinks != 0) {
        H5Eclear2(H5E_DEFAULT);
        return Status::Invalid(file_path + ": " + path + " is not a dataset");
      }
      g.Reset();
      if (H5Ldelete(file, path.c_str(), H5P_DEFAULT) < 0) {
        return HdfError(file_path, "cannot replace the empty group " + path);
      }
      exists = false;
    } else {
      Status st = CheckTable(dset.get(), path.c_str(), Codec::kKey);
      if (st.ok()) st = CheckColumns(dset.get(), path.c_str(), t->type.get());
      if (!st.ok()) return Status::Invalid(file_path + ": " + st.message());
      std::vector<std::string> missing = MissingColumns(dset.get(), t->type.get());
      if (!missing.empty()) {
        auto up = MigrateTable<Codec>(file_path, file, std::move(dset), t->type.get(), missing);
        if (!up.ok()) return up.status();
        dset = std::move(up).value();
      }
      t->dset = std::move(dset);
    }
  }
  if (!exists) {
    t->dset = CreateTable(file, path.c_str(), t->type.get());
    if (!t->dset.valid()) return HdfError(file_path, "cannot create " + path);
  }
  t->rows = CountRows(t->dset.get());
  if (t->rows < 0) return HdfError(file_path, "cannot read the size of " + path);
  return Status::Ok();
}

// Creates the groups the file lacks.
Status PrepareGroups(const std::string& path, hid_t file) {
  for (const char* group : kLayoutGroups) {
    htri_t group_exists = H5Lexists(file, group, H5P_DEFAULT);
    if (group_exists < 0) return HdfError(path, std::string("cannot look up ") + group);
    if (group_exists == 0) {
      Hid g(H5Gcreate2(file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      if (!g.valid()) return HdfError(path, std::string("cannot create ") + group);
    }
  }
  return Status::Ok();
}

// Appends `rows` to `t` and flushes; false leaves the error in *st.
template <class Codec>
bool AppendTo(const std::string& path, Table& t, const std::vector<typename Codec::Record>& rows,
              Status* st) {
  if (rows.empty()) return true;
  *st = AppendRecords<Codec>(t.dset.get(), t.type.get(), t.rows, rows);
  if (st->ok() && H5Dflush(t.dset.get()) < 0) *st = HdfError(path, "cannot flush");
  if (!st->ok()) {
    *st = Status::Internal(std::string(Codec::kPath) + ": appending " +
                           std::to_string(rows.size()) + " rows: " + st->message());
  }
  return st->ok();
}

// Shrinks `t` back to the rows it had (best effort: readers must not see half an append).
void Undo(Table& t) {
  if (CountRows(t.dset.get()) == t.rows) return;
  hsize_t old_size = static_cast<hsize_t>(t.rows);
  H5Dset_extent(t.dset.get(), &old_size);
  H5Dflush(t.dset.get());
  H5Eclear2(H5E_DEFAULT);
}

}  // namespace

Result<std::unique_ptr<AccountingWriter>> AccountingWriter::Open(const std::string& path) {
  Hdf5Call call;
  Result<WriterLock> lock = WriterLock::Acquire(path);
  if (!lock.ok()) return lock.status();
  auto state = std::make_unique<State>();
  state->lock.emplace(std::move(lock).value());

  Result<Hid> file = OpenOrCreateFile(path, *state->lock);
  if (!file.ok()) return file.status();
  state->file = std::move(file).value();
  hid_t f = state->file.get();
  Status st = PrepareTable<JobTable>(path, f, &state->jobs);
  if (st.ok()) st = PrepareTable<StepTable>(path, f, &state->steps);
  if (st.ok()) st = PrepareTable<UsageTable>(path, f, &state->usage);
  if (st.ok()) st = PrepareGroups(path, f);
  if (!st.ok()) return st;
  if (H5Fstart_swmr_write(f) < 0) return HdfError(path, "cannot start SWMR write mode");
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
  bool ok = true;
  for (Table* t : {&state_->jobs, &state_->steps, &state_->usage}) {
    ok = t->dset.Reset() && ok;
    t->type.Reset();
  }
  ok = state_->file.Reset() && ok;  // H5Fclose flushes and clears the SWMR flag
  std::string why = ok ? "" : Hdf5ErrorText();
  state_->lock.reset();
  if (!ok) return Status::Internal(path_ + ": closing the accounting file: " + why);
  return Status::Ok();
}

Status AccountingWriter::Append(const std::vector<JobRecord>& rows) {
  AccountingBatch b;
  b.jobs = rows;
  return Append(b);
}

Status AccountingWriter::Append(const AccountingBatch& b) {
  Hdf5Call call;
  std::lock_guard<std::mutex> hold(state_->mu);
  if (!state_->file.valid()) return Status::FailedPrecondition(path_ + ": writer is closed");
  State& s = *state_;
  Status st;
  if (AppendTo<JobTable>(path_, s.jobs, b.jobs, &st) &&
      AppendTo<StepTable>(path_, s.steps, b.steps, &st) &&
      AppendTo<UsageTable>(path_, s.usage, b.usage, &st)) {
    s.jobs.rows += static_cast<int64_t>(b.jobs.size());
    s.steps.rows += static_cast<int64_t>(b.steps.size());
    s.usage.rows += static_cast<int64_t>(b.usage.size());
    return Status::Ok();
  }
  for (Table* t : {&s.jobs, &s.steps, &s.usage}) Undo(*t);
  return Status::Internal(path_ + ": " + st.message());
}

namespace {

template <class Codec, class Keep>
Result<std::vector<typename Codec::Record>> ReadTable(const std::string& path, const Table& t,
                                                      Keep keep) {
  auto rows = ReadRecords<Codec>(t.dset.get(), t.type.get(), 0, t.rows, keep);
  if (!rows.ok()) return Status::Internal(path + ": " + rows.status().message());
  return rows;
}

}  // namespace

Result<std::vector<JobRecord>> AccountingWriter::ReadAll() const {
  Hdf5Call call;
  std::lock_guard<std::mutex> hold(state_->mu);
  if (!state_->file.valid()) return Status::FailedPrecondition(path_ + ": writer is closed");
  return ReadTable<JobTable>(path_, state_->jobs, [](const JobRecord&) { return true; });
}

Result<std::vector<StepRecord>> AccountingWriter::ReadSteps(const std::set<JobId>& jobs) const {
  Hdf5Call call;
  std::lock_guard<std::mutex> hold(state_->mu);
  if (!state_->file.valid()) return Status::FailedPrecondition(path_ + ": writer is closed");
  return ReadTable<StepTable>(path_, state_->steps, [&](const StepRecord& r) {
    return jobs.empty() || jobs.count(r.job_id);
  });
}

Result<std::vector<UsageSample>> AccountingWriter::ReadUsage(const std::set<JobId>& jobs) const {
  Hdf5Call call;
  std::lock_guard<std::mutex> hold(state_->mu);
  if (!state_->file.valid()) return Status::FailedPrecondition(path_ + ": writer is closed");
  return ReadTable<UsageTable>(path_, state_->usage,
                               [&](const UsageSample& r) { return jobs.count(r.job_id) > 0; });
}

int64_t AccountingWriter::size() const {
  std::lock_guard<std::mutex> hold(state_->mu);
  return state_->jobs.rows;
}

int64_t AccountingWriter::steps() const {
  std::lock_guard<std::mutex> hold(state_->mu);
  return state_->steps.rows;
}

int64_t AccountingWriter::samples() const {
  std::lock_guard<std::mutex> hold(state_->mu);
  return state_->usage.rows;
}

}  // namespace corral
