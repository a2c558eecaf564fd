// An array's task indices, ascending and distinct, kept as arithmetic runs (0-99999 is one run,
// 1-999:2 another), as Slurm keeps an array's pending tasks as a bitmap rather than a list: a
// 100,000-task array costs a few bytes. Indices without a pattern are kept as a plain list
// when that is smaller. Immutable once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::ctld {

class IndexList {
 public:
  IndexList() = default;
  // `sorted`: ascending and distinct.
  explicit IndexList(const std::vector<int32_t>& sorted);

  size_t size() const { return size_; }
  // The k-th index (k < size()).
  int32_t operator[](size_t k) const;
  // The position of `index`, if it is one of them.
  std::optional<size_t> Find(int32_t index) const;
  std::vector<int32_t> ToVector() const;
  // A compact encoding of the runs, and back (nullopt: not one of Encode's, or not ascending).
  std::string Encode() const;
  static std::optional<IndexList> Decode(std::string_view bytes);
  // Bytes held, for the benchmarks' accounting.
  size_t HeapBytes() const;

 private:
  struct Run {
    int32_t first = 0, step = 1;
    uint32_t count = 0;
    size_t offset = 0;  // the position of `first`
  };
  static std::vector<Run> RunsOf(const std::vector<int32_t>& sorted);
  std::vector<Run> runs_;      // empty when flat_ is used
  std::vector<int32_t> flat_;  // only when it is smaller than the runs
  size_t size_ = 0;
};

}  // namespace corral::ctld
