// Internal to accounting/: a table of the accounting file, kept as a 1-D, unlimited, chunked
// dataset of a compound type with one member per field of its record, named as the field.
// Strings are fixed-size, NUL-padded UTF-8 (a string that fills its column has no terminator).
//
// A table's Codec (one per table, declared in table_codecs.h) says
// how its records become rows:
//   using Record = ...;              the public struct
//   static constexpr char kPath[];   "/jobs"
//   static constexpr char kKey[];    a column every version of the table has ("job_id")
//   static size_t RowBytes();        bytes of one row in memory
//   static Hid Type();               the in-memory compound type of one row
//   static void Encode(const Record&, std::byte* row);
//   static Record Decode(const std::byte* row);
//
// Columns are matched by name, so a file written by an older version (fewer columns) still
// reads: the columns it lacks read as 0 or "". The writer upgrades such a table in place
// (MigrateTable) before SWMR write mode starts.
#pragma once

#include <hdf5.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "accounting/hdf5_call.h"
#include "common/status.h"

namespace corral::acct_internal {

// Rows converted per read or write, to bound the temporary buffer on large tables.
inline constexpr size_t kBlockRows = 4096;

// Copies `s` into a NUL-padded column of `n` bytes, cutting at a UTF-8 character boundary.
void PutString(const std::string& s, char* col, size_t n);
std::string GetString(const char* col, size_t n);
template <size_t N>
void PutString(const std::string& s, char (&col)[N]) {
  PutString(s, col, N);
}
template <size_t N>
std::string GetString(const char (&col)[N]) {
  return GetString(col, N);
}

// Adds a fixed-size UTF-8 string member to compound `type`.
bool InsertString(hid_t type, const char* name, size_t offset, size_t bytes);

// Creates an empty table at `path` with rows of `type`. Invalid on failure (reason on the stack).
Hid CreateTable(hid_t file, const char* path, hid_t type);

// Invalid with the reason unless `dset` (the table at `path`) is 1-D, of compound rows, with
// the column `key`.
Status CheckTable(hid_t dset, const char* path, const char* key);

// Invalid with the reason if a column of `mem_type` is in the table as another kind of value.
Status CheckColumns(hid_t dset, const char* path, hid_t mem_type);

// The columns of `mem_type` that the table's rows lack.
std::vector<std::string> MissingColumns(hid_t dset, hid_t mem_type);

// `mem_type` restricted to the columns the table has, at the same offsets: what to read with.
Hid ReadType(hid_t dset, hid_t mem_type);

// Number of rows as the handle currently sees it, or -1 on failure.
int64_t CountRows(hid_t dset);

// Reads rows [first, first + count) into `buf` (count x row bytes, zeroed by the caller:
// columns the table lacks are left as they are).
Status ReadRows(hid_t dset, hid_t read_type, int64_t first, int64_t count, std::byte* buf);

// Grows the table from `old_rows` rows by `count` and writes `buf` there. Does not flush. On
// failure the table may have been grown; the caller shrinks it back to `old_rows`.
Status WriteRows(hid_t dset, hid_t type, int64_t old_rows, int64_t count, const std::byte* buf);

template <class Codec>
Status AppendRecords(hid_t dset, hid_t type, int64_t old_rows,
                     const std::vector<typename Codec::Record>& rows) {
  const size_t bytes = Codec::RowBytes();
  std::vector<std::byte> buf;
  for (size_t done = 0; done < rows.size();) {
    size_t n = std::min(kBlockRows, rows.size() - done);
    buf.assign(n * bytes, std::byte{0});
    for (size_t i = 0; i < n; ++i) Codec::Encode(rows[done + i], buf.data() + i * bytes);
    Status st = WriteRows(dset, type, old_rows + static_cast<int64_t>(done),
                          static_cast<int64_t>(n), buf.data());
    if (!st.ok()) return st;
    done += n;
  }
  return Status::Ok();
}

// Reads rows [first, end) (end -1: every row the handle sees), passing each to `keep`, which
// returns whether to keep it.
template <class Codec, class Keep>
Result<std::vector<typename Codec::Record>> ReadRecords(hid_t dset, hid_t read_type, int64_t first,
                                                        int64_t end, Keep keep) {
  int64_t total = CountRows(dset);
  if (total < 0) return Status::Internal(std::string("cannot read the size of ") + Codec::kPath);
  if (end < 0 || end > total) end = total;
  const size_t bytes = Codec::RowBytes();
  std::vector<typename Codec::Record> out;
  std::vector<std::byte> buf;
  for (int64_t at = std::max<int64_t>(first, 0); at < end;) {
    int64_t n = std::min<int64_t>(static_cast<int64_t>(kBlockRows), end - at);
    buf.assign(static_cast<size_t>(n) * bytes, std::byte{0});
    Status st = ReadRows(dset, read_type, at, n, buf.data());
    if (!st.ok()) return st;
    for (int64_t i = 0; i < n; ++i) {
      typename Codec::Record r = Codec::Decode(buf.data() + static_cast<size_t>(i) * bytes);
      if (keep(r)) out.push_back(std::move(r));
    }
    at += n;
  }
  return out;
}

template <class Codec>
Result<std::vector<typename Codec::Record>> ReadAllRecords(hid_t dset, hid_t read_type) {
  return ReadRecords<Codec>(dset, read_type, 0, -1,
                            [](const typename Codec::Record&) { return true; });
}

}  // namespace corral::acct_internal
