#include "accounting/hdf5_call.h"

#include <vector>

namespace corral::acct_internal {

Hdf5Call::Hdf5Call() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Hdf5Call::~Hdf5Call() {
  H5Eset_auto2(H5E_DEFAULT, func_, data_);
}

namespace {

herr_t CollectDescription(unsigned, const H5E_error2_t* err, void* out) {
  auto* lines = static_cast<std::vector<std::string>*>(out);
  if (err->desc != nullptr && err->desc[0] != '\0' &&
      (lines->empty() || lines->back() != err->desc)) {
    lines->emplace_back(err->desc);
  }
  return 0;
}

}  // namespace

std::string Hdf5ErrorText() {
  std::vector<std::string> lines;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, CollectDescription, &lines);
  H5Eclear2(H5E_DEFAULT);
  if (lines.empty()) return "unknown HDF5 error";
  // The outermost frame says what failed; the innermost two say why.
  std::string text = lines.front();
  size_t first_reason = lines.size() > 3 ? lines.size() - 2 : 1;
  for (size_t i = first_reason; i < lines.size(); ++i) text += ": " + lines[i];
  return text;
}

Hid& Hid::operator=(Hid&& o) noexcept {
  if (this != &o) {
    Reset();
    id_ = o.id_;
    o.id_ = -1;
  }
  return *this;
}

bool Hid::Reset() {
  if (id_ < 0) return true;
  herr_t rc = 0;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      rc = H5Fclose(id_);
      break;
    case H5I_GROUP:
    case H5I_DATASET:
      rc = H5Oclose(id_);
      break;
    case H5I_DATATYPE:
      rc = H5Tclose(id_);
      break;
    case H5I_DATASPACE:
      rc = H5Sclose(id_);
      break;
    case H5I_GENPROP_LST:
      rc = H5Pclose(id_);
      break;
    default:
      rc = H5Idec_ref(id_);
      break;
  }
  id_ = -1;
  return rc >= 0;
}

}  // namespace corral::acct_internal
