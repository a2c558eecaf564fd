#include "cli/table.h"

#include <algorithm>

namespace corral::cli {

void Table::Print(std::ostream& out) const {
  std::vector<size_t> w;
  for (const auto& r : rows_) {
    if (w.size() < r.size()) w.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  // One buffer and one write: a queue can have tens of thousands of rows.
  std::string buf;
  size_t line = 0;
  for (size_t x : w) line += x + 2;
  buf.reserve(rows_.size() * (line + 1));
  for (const auto& r : rows_) {
    for (size_t i = 0; i < r.size(); ++i) {
      buf += r[i];
      if (i + 1 < r.size()) buf.append(w[i] - r[i].size() + 2, ' ');
    }
    buf += '\n';
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace corral::cli
