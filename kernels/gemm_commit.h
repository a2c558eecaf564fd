// A commitment to all of C, the product of the verification GEMM (kernels/gemm_verify.h), so that
// the entries a verifier samples can be chosen after the prover is bound to its answer: a prover
// that computed only part of C then fails with the probability that a sample lands elsewhere.
//
// C is cut into leaves, each up to kLeafFloats consecutive entries of one row, numbered row by
// row. A leaf's hash is SHA-256(0x00 | leaf number, 8 bytes little-endian | its floats' bytes);
// an inner node's is SHA-256(0x01 | left | right). Each level pairs neighbours; a last node
// without a neighbour moves up unchanged. The root names all of C.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace corral::kernels {

constexpr int64_t kLeafFloats = 256;

using Digest256 = std::array<uint8_t, 32>;

// Leaves of an m×n matrix: m · ceil(n / kLeafFloats).
int64_t LeafCount(int64_t m, int64_t n);

// What proves one leaf: its entries and the sibling hashes from it up to the root.
struct LeafOpening {
  int64_t leaf = 0;
  std::vector<float> values;
  std::vector<Digest256> path;
};

class GemmCommitment {
 public:
  // Hashes C (row-major m×n, m, n ≥ 1) into the tree: O(m·n), about 2 hashes per leaf.
  static GemmCommitment Build(const float* c, int64_t m, int64_t n);

  const Digest256& root() const { return levels_.back().front(); }

  // The leaf that holds C[row][col] (0 ≤ row < m, 0 ≤ col < n), from `c`, the matrix the tree
  // was built from.
  LeafOpening Open(const float* c, int64_t row, int64_t col) const;

 private:
  int64_t m_ = 0, n_ = 0;
  std::vector<std::vector<Digest256>> levels_;  // leaves first, the root last
};

// The verifier's side: Ok when `o` is the leaf of an m×n matrix that holds C[row][col] and its
// path leads to `root`; then *value is C[row][col]. Invalid, saying what does not match, when
// the leaf number, the number of values or the path is wrong.
Status VerifyLeafOpening(const Digest256& root, int64_t m, int64_t n, int64_t row, int64_t col,
                         const LeafOpening& o, float* value);

// 64 hex digits.
std::string HexDigest(const Digest256& d);

}  // namespace corral::kernels
