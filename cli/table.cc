#include "cli/table.h"

#include <algorithm>

namespace corral::cli {

Table::Table(std::initializer_list<std::string_view> header) : cols_(header.size()) {
  for (std::string_view h : header) Cell(h);
}

Table::Table(const std::vector<std::string>& header) : cols_(header.size()) {
  for (const std::string& h : header) Cell(h);
}

void Table::Reserve(size_t rows, size_t row_bytes) {
  ends_.reserve((rows + 1) * cols_);
  text_.reserve(text_.size() + rows * row_bytes);
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> w(cols_, 0);
  size_t begin = 0;
  for (size_t i = 0; i < ends_.size(); ++i) {
    w[i % cols_] = std::max(w[i % cols_], ends_[i] - begin);
    begin = ends_[i];
  }
  // Written in 64 KiB pieces from one reused buffer: a queue can have tens of thousands of rows,
  // and a buffer the size of the whole listing costs a page fault per 4 KiB.
  std::string buf;
  buf.reserve(1 << 16);
  begin = 0;
  for (size_t i = 0; i < ends_.size(); ++i) {
    size_t c = i % cols_, len = ends_[i] - begin;
    buf.append(text_, begin, len);
    if (c + 1 < cols_) {
      buf.append(w[c] - len + 2, ' ');
    } else {
      buf += '\n';
      if (buf.size() > (1 << 16) - 4096) {
        out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        buf.clear();
      }
    }
    begin = ends_[i];
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace corral::cli
