#include "accounting/h5_table.h"

#include <cstring>

namespace corral::acct_internal {
namespace {

// Rows per chunk: one 1-row append rewrites one chunk, a batch touches few.
constexpr hsize_t kChunkRows = 64;

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

std::string MemberName(hid_t type, int i) {
  char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
  std::string s = name != nullptr ? name : "";
  H5free_memory(name);
  return s;
}

bool HasMember(hid_t type, const std::string& name) {
  if (H5Tget_member_index(type, name.c_str()) >= 0) return true;
  H5Eclear2(H5E_DEFAULT);
  return false;
}

}  // namespace

void PutString(const std::string& s, char* col, size_t n_col) {
  size_t n = s.size();
  if (n > n_col) {
    n = n_col;
    // Back off over continuation bytes (10xxxxxx) so no character is split.
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::memcpy(col, s.data(), n);
  std::memset(col + n, 0, n_col - n);
}

std::string GetString(const char* col, size_t n) {
  return std::string(col, strnlen(col, n));
}

bool InsertString(hid_t type, const char* name, size_t offset, size_t bytes) {
  Hid s(H5Tcopy(H5T_C_S1));
  return s.valid() && H5Tset_size(s.get(), bytes) >= 0 &&
         H5Tset_strpad(s.get(), H5T_STR_NULLPAD) >= 0 && H5Tset_cset(s.get(), H5T_CSET_UTF8) >= 0 &&
         H5Tinsert(type, name, offset, s.get()) >= 0;
}

Hid CreateTable(hid_t file, const char* path, hid_t type) {
  hsize_t dims = 0, max_dims = H5S_UNLIMITED, chunk = kChunkRows;
  Hid space(H5Screate_simple(1, &dims, &max_dims));
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (!space.valid() || !dcpl.valid() || H5Pset_chunk(dcpl.get(), 1, &chunk) < 0) return Hid();
  return Hid(H5Dcreate2(file, path, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
}

Status CheckTable(hid_t dset, const char* path, const char* key) {
  Hid space(H5Dget_space(dset));
  Hid type(H5Dget_type(dset));
  if (!space.valid() || !type.valid()) return HdfError(std::string("cannot inspect ") + path);
  if (H5Sget_simple_extent_ndims(space.get()) != 1 || H5Tget_class(type.get()) != H5T_COMPOUND) {
    H5Eclear2(H5E_DEFAULT);
    return Status::Invalid(std::string(path) + " is not a 1-D table of compound rows");
  }
  if (!HasMember(type.get(), key)) {
    return Status::Invalid(std::string(path) + " has no column '" + key + "'");
  }
  return Status::Ok();
}

Status CheckColumns(hid_t dset, const char* path, hid_t mem_type) {
  Hid type(H5Dget_type(dset));
  if (!type.valid()) return HdfError(std::string("cannot inspect ") + path);
  int members = H5Tget_nmembers(mem_type);
  for (int i = 0; i < members; ++i) {
    std::string column = MemberName(mem_type, i);
    int at = H5Tget_member_index(type.get(), column.c_str());
    if (at < 0) {
      H5Eclear2(H5E_DEFAULT);
      continue;
    }
    if (H5Tget_member_class(type.get(), static_cast<unsigned>(at)) !=
        H5Tget_member_class(mem_type, static_cast<unsigned>(i))) {
      return Status::Invalid(std::string(path) + ": column '" + column + "' is of another kind");
    }
  }
  return Status::Ok();
}

std::vector<std::string> MissingColumns(hid_t dset, hid_t mem_type) {
  Hid type(H5Dget_type(dset));
  std::vector<std::string> out;
  int members = H5Tget_nmembers(mem_type);
  for (int i = 0; i < members; ++i) {
    std::string column = MemberName(mem_type, i);
    if (!type.valid() || !HasMember(type.get(), column)) out.push_back(column);
  }
  return out;
}

Hid ReadType(hid_t dset, hid_t mem_type) {
  Hid file_type(H5Dget_type(dset));
  Hid t(H5Tcreate(H5T_COMPOUND, H5Tget_size(mem_type)));
  if (!file_type.valid() || !t.valid()) return Hid();
  int members = H5Tget_nmembers(mem_type);
  for (int i = 0; i < members; ++i) {
    std::string column = MemberName(mem_type, i);
    if (!HasMember(file_type.get(), column)) continue;
    Hid stored(H5Tget_member_type(file_type.get(), static_cast<unsigned>(H5Tget_member_index(
                                                       file_type.get(), column.c_str()))));
    Hid member(H5Tget_member_type(mem_type, static_cast<unsigned>(i)));  // a copy of its own
    if (!stored.valid() || !member.valid()) return Hid();
    // A column of another kind (a number where a string belongs) reads as missing (the writer
    // refuses such a table: CheckColumns). HDF5 does not convert between character sets, so a
    // string column is read in the one it was stored in.
    if (H5Tget_class(stored.get()) != H5Tget_class(member.get())) continue;
    if (H5Tget_class(member.get()) == H5T_STRING &&
        H5Tset_cset(member.get(), H5Tget_cset(stored.get())) < 0) {
      return Hid();
    }
    size_t offset = H5Tget_member_offset(mem_type, static_cast<unsigned>(i));
    if (H5Tinsert(t.get(), column.c_str(), offset, member.get()) < 0) return Hid();
  }
  return t;
}

int64_t CountRows(hid_t dset) {
  Hid space(H5Dget_space(dset));
  hsize_t dims = 0;
  if (!space.valid() || H5Sget_simple_extent_dims(space.get(), &dims, nullptr) != 1) return -1;
  return static_cast<int64_t>(dims);
}

Status ReadRows(hid_t dset, hid_t read_type, int64_t first, int64_t count, std::byte* buf) {
  hsize_t n = static_cast<hsize_t>(count);
  Hid file_space = SelectRows(dset, static_cast<hsize_t>(first), n);
  Hid mem_space(H5Screate_simple(1, &n, nullptr));
  // Keep what the buffer holds where the file has no column (zeroes): the background buffer.
  Hid dxpl(H5Pcreate(H5P_DATASET_XFER));
  if (!file_space.valid() || !mem_space.valid() || !dxpl.valid() ||
      H5Pset_preserve(dxpl.get(), 1) < 0 ||
      H5Dread(dset, read_type, mem_space.get(), file_space.get(), dxpl.get(), buf) < 0) {
    return HdfError("cannot read rows");
  }
  return Status::Ok();
}

Status WriteRows(hid_t dset, hid_t type, int64_t old_rows, int64_t count, const std::byte* buf) {
  if (count <= 0) return Status::Ok();
  hsize_t first = static_cast<hsize_t>(old_rows), n = static_cast<hsize_t>(count), size = first + n;
  if (H5Dset_extent(dset, &size) < 0) return HdfError("cannot grow the table");
  Hid file_space = SelectRows(dset, first, n);
  Hid mem_space(H5Screate_simple(1, &n, nullptr));
  if (!file_space.valid() || !mem_space.valid() ||
      H5Dwrite(dset, type, mem_space.get(), file_space.get(), H5P_DEFAULT, buf) < 0) {
    return HdfError("cannot write rows");
  }
  return Status::Ok();
}

}  // namespace corral::acct_internal
