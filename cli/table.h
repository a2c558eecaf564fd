// Plain-text tables for listings: columns padded to their widest cell.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace corral::cli {

class Table {
 public:
  explicit Table(std::initializer_list<std::string_view> header);
  // A header whose columns are known only at run time.
  explicit Table(const std::vector<std::string>& header);
  // Appends a row of as many cells as the header; the cells are copied.
  template <typename... Cells>
  void Add(const Cells&... cells) {
    (Cell(cells), ...);
  }
  // Appends a row; cells beyond the header's are dropped, missing ones left empty.
  void AddRow(const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cols_; ++i) Cell(i < cells.size() ? cells[i] : std::string_view());
  }
  // Room for `rows` rows of about `row_bytes` bytes of text each.
  void Reserve(size_t rows, size_t row_bytes);
  size_t rows() const { return ends_.size() / cols_ - 1; }  // not counting the header
  void Print(std::ostream& out) const;

 private:
  void Cell(std::string_view s) {
    text_.append(s);
    ends_.push_back(static_cast<uint32_t>(text_.size()));
  }
  size_t cols_;
  // Every cell's text back to back, row-major with the header first, and where each cell ends:
  // a listing of 10,000 jobs is two allocations, not 90,000.
  std::string text_;
  std::vector<uint32_t> ends_;
};

}  // namespace corral::cli
