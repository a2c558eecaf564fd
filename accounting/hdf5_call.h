// Internal to accounting/: how this module calls the HDF5 C library.
// Every public entry point holds an Hdf5Call for its duration: HDF5's automatic printing of
// error stacks to stderr is off for the calling thread, and Hdf5ErrorText() turns the stack
// into one line for a Status. HDF5 identifiers are owned by Hid, which closes them.
#pragma once

#include <hdf5.h>

#include <string>

namespace corral::acct_internal {

// Silences HDF5's error printing for this thread while alive; restores it afterwards.
class Hdf5Call {
 public:
  Hdf5Call();
  ~Hdf5Call();
  Hdf5Call(const Hdf5Call&) = delete;
  Hdf5Call& operator=(const Hdf5Call&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// The current thread's HDF5 error stack as "what failed: why", innermost reasons last, or
// "unknown HDF5 error" when the stack is empty. Clears the stack.
std::string Hdf5ErrorText();

// Owns one HDF5 identifier of any kind (file, dataset, type, space, list, group); closes it
// with H5Oclose/H5Fclose/... as its kind needs. A negative id means "none".
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  ~Hid() { Reset(); }
  Hid(Hid&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Hid& operator=(Hid&& o) noexcept;
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes the identifier; returns false (error left on the HDF5 stack) if closing failed.
  bool Reset();

 private:
  hid_t id_ = -1;
};

}  // namespace corral::acct_internal
