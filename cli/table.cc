#include "cli/table.h"

#include <algorithm>

namespace corral::cli {

void Table::Print(std::ostream& out) const {
  std::vector<size_t> w(cols_, 0);
  for (size_t i = 0; i < cells_.size(); ++i)
    w[i % cols_] = std::max(w[i % cols_], cells_[i].size());
  // One buffer and one write: a queue can have tens of thousands of rows.
  size_t line = 0;
  for (size_t x : w) line += x + 2;
  std::string buf;
  buf.reserve(cells_.size() / std::max<size_t>(cols_, 1) * (line + 1));
  for (size_t i = 0; i < cells_.size(); ++i) {
    size_t c = i % cols_;
    buf += cells_[i];
    if (c + 1 < cols_) {
      buf.append(w[c] - cells_[i].size() + 2, ' ');
    } else {
      buf += '\n';
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace corral::cli
