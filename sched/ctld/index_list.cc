#include "sched/ctld/index_list.h"

#include <algorithm>
#include <cstring>

namespace corral::ctld {

std::vector<IndexList::Run> IndexList::RunsOf(const std::vector<int32_t>& sorted) {
  std::vector<Run> runs;
  size_t k = 0;
  while (k < sorted.size()) {
    Run r;
    r.first = sorted[k];
    r.offset = k;
    r.count = 1;
    if (k + 1 < sorted.size()) {
      r.step = sorted[k + 1] - sorted[k];
      while (k + r.count < sorted.size() &&
             static_cast<int64_t>(sorted[k + r.count]) - sorted[k + r.count - 1] == r.step) {
        ++r.count;
      }
    }
    k += r.count;
    runs.push_back(r);
  }
  return runs;
}

IndexList::IndexList(const std::vector<int32_t>& sorted) : size_(sorted.size()) {
  std::vector<Run> runs = RunsOf(sorted);
  if (runs.size() * sizeof(Run) <= sorted.size() * sizeof(int32_t)) {
    runs_ = std::move(runs);
  } else {
    flat_ = sorted;
  }
}

int32_t IndexList::operator[](size_t k) const {
  if (runs_.empty()) return flat_[k];
  auto it = std::upper_bound(runs_.begin(), runs_.end(), k,
                             [](size_t v, const Run& r) { return v < r.offset; });
  const Run& r = *(it - 1);
  return r.first + static_cast<int32_t>(k - r.offset) * r.step;
}

std::optional<size_t> IndexList::Find(int32_t index) const {
  if (runs_.empty()) {
    auto it = std::lower_bound(flat_.begin(), flat_.end(), index);
    if (it == flat_.end() || *it != index) return std::nullopt;
    return static_cast<size_t>(it - flat_.begin());
  }
  auto it = std::upper_bound(runs_.begin(), runs_.end(), index,
                             [](int32_t v, const Run& r) { return v < r.first; });
  if (it == runs_.begin()) return std::nullopt;
  const Run& r = *(it - 1);
  const int64_t d = static_cast<int64_t>(index) - r.first;
  if (d % r.step != 0 || d / r.step >= r.count) return std::nullopt;
  return r.offset + static_cast<size_t>(d / r.step);
}

std::vector<int32_t> IndexList::ToVector() const {
  if (runs_.empty()) return flat_;
  std::vector<int32_t> out;
  out.reserve(size_);
  for (const Run& r : runs_) {
    for (uint32_t i = 0; i < r.count; ++i)
      out.push_back(r.first + static_cast<int32_t>(i) * r.step);
  }
  return out;
}

// Little-endian (first, step, count) triples of 32-bit integers.
std::string IndexList::Encode() const {
  std::vector<Run> runs = runs_.empty() ? RunsOf(flat_) : runs_;
  std::string out;
  out.reserve(runs.size() * 12);
  auto put = [&out](uint32_t v) {
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  };
  for (const Run& r : runs) {
    put(static_cast<uint32_t>(r.first));
    put(static_cast<uint32_t>(r.step));
    put(r.count);
  }
  return out;
}

std::optional<IndexList> IndexList::Decode(std::string_view bytes) {
  if (bytes.size() % 12 != 0) return std::nullopt;
  auto get = [&](size_t at) {
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b)
      v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + b])) << (8 * b);
    return v;
  };
  std::vector<int32_t> all;
  for (size_t at = 0; at < bytes.size(); at += 12) {
    const int64_t first = static_cast<int32_t>(get(at));
    const int64_t step = static_cast<int32_t>(get(at + 4));
    const uint32_t count = get(at + 8);
    if (count == 0 || step <= 0 || all.size() + count > 10000000) return std::nullopt;
    if (first + step * (count - 1) > INT32_MAX) return std::nullopt;
    if (!all.empty() && first <= all.back()) return std::nullopt;
    for (uint32_t i = 0; i < count; ++i) all.push_back(static_cast<int32_t>(first + step * i));
  }
  return IndexList(all);
}

size_t IndexList::HeapBytes() const {
  return runs_.capacity() * sizeof(Run) + flat_.capacity() * sizeof(int32_t);
}

}  // namespace corral::ctld
