// Plain-text tables for listings: columns padded to their widest cell.
#pragma once

#include <initializer_list>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace corral::cli {

class Table {
 public:
  explicit Table(std::initializer_list<std::string> header)
      : cols_(header.size()), cells_(header) {}
  // A row of as many cells as the header (checked in debug builds); cells are moved in.
  template <typename... Cells>
  void Add(Cells&&... cells) {
    (cells_.emplace_back(std::forward<Cells>(cells)), ...);
  }
  void Reserve(size_t rows) { cells_.reserve((rows + 1) * cols_); }
  void Print(std::ostream& out) const;

 private:
  size_t cols_;
  std::vector<std::string> cells_;  // row-major, the header first: one allocation for all rows
};

}  // namespace corral::cli
