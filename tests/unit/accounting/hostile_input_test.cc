// Open on paths that are not accounting files fails with an error naming the path, and
// leaves whatever is there as it was.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "accounting/hdf5_reader.h"
#include "accounting/hdf5_writer.h"
#include "tests/unit/accounting/temp_dir.h"

namespace corral {
namespace {

using testing::TempDir;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string Garbage() {
  std::string bytes = "this is not HDF5\n";
  for (int i = 0; i < 5000; ++i) bytes.push_back(static_cast<char>((i * 7919) % 251));
  return bytes;
}

bool Names(const Status& st, const std::string& path) {
  return st.message().find(path) != std::string::npos;
}

TEST(HostileInput, WriterOnADirectory) {
  TempDir dir;
  auto w = AccountingWriter::Open(dir.path());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kInvalid) << w.status().ToString();
  EXPECT_TRUE(Names(w.status(), dir.path())) << w.status().ToString();
  EXPECT_TRUE(std::filesystem::is_directory(dir.path()));
}

TEST(HostileInput, ReaderOnADirectory) {
  TempDir dir;
  auto r = AccountingReader::Open(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid) << r.status().ToString();
  EXPECT_TRUE(Names(r.status(), dir.path())) << r.status().ToString();
}

TEST(HostileInput, WriterOnGarbageLeavesItUntouched) {
  TempDir dir;
  std::string path = dir.File("notes.h5");
  WriteBytes(path, Garbage());
  auto w = AccountingWriter::Open(path);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kInvalid) << w.status().ToString();
  EXPECT_TRUE(Names(w.status(), path)) << w.status().ToString();
  EXPECT_EQ(ReadBytes(path), Garbage());
}

TEST(HostileInput, ReaderOnGarbageLeavesItUntouched) {
  TempDir dir;
  std::string path = dir.File("notes.h5");
  WriteBytes(path, Garbage());
  auto r = AccountingReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid) << r.status().ToString();
  EXPECT_TRUE(Names(r.status(), path)) << r.status().ToString();
  EXPECT_EQ(ReadBytes(path), Garbage());
}

TEST(HostileInput, WriterInAMissingDirectoryCreatesNothing) {
  TempDir dir;
  std::string missing = dir.File("no/such/dir");
  std::string path = missing + "/acct.h5";
  auto w = AccountingWriter::Open(path);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kNotFound) << w.status().ToString();
  EXPECT_TRUE(Names(w.status(), path)) << w.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir.File("no")));
}

TEST(HostileInput, ReaderOnAMissingFile) {
  TempDir dir;
  std::string path = dir.File("no/such/acct.h5");
  auto r = AccountingReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound) << r.status().ToString();
  EXPECT_TRUE(Names(r.status(), path)) << r.status().ToString();
}

// An HDF5 file whose /jobs is something else: refused, and no group is added to it.
TEST(HostileInput, ForeignHdf5FileIsRefusedAndNotChanged) {
  TempDir dir;
  std::string path = dir.File("other.h5");
  {
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    hsize_t dims = 4;
    hid_t space = H5Screate_simple(1, &dims, nullptr);
    int data[4] = {1, 2, 3, 4};
    hid_t dset =
        H5Dcreate2(file, "/jobs", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(dset, 0);
    ASSERT_GE(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
  }
  auto w = AccountingWriter::Open(path);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kInvalid) << w.status().ToString();
  EXPECT_TRUE(Names(w.status(), path)) << w.status().ToString();
  EXPECT_NE(w.status().message().find("/jobs"), std::string::npos) << w.status().ToString();

  auto r = AccountingReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid) << r.status().ToString();

  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  EXPECT_EQ(H5Lexists(file, "/usage", H5P_DEFAULT), 0);
  hid_t dset = H5Dopen2(file, "/jobs", H5P_DEFAULT);
  int data[4] = {};
  ASSERT_GE(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  EXPECT_EQ(data[3], 4);
  H5Dclose(dset);
  H5Fclose(file);
}

}  // namespace
}  // namespace corral
