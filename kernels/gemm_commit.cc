#include "kernels/gemm_commit.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace corral::kernels {

namespace {

// SHA-256 over `parts`, one context per call site; EVP_MD_CTX_reset keeps it reusable.
class Hasher {
 public:
  Hasher() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {}
  Digest256 Leaf(int64_t leaf, const float* values, size_t count) {
    uint8_t head[9] = {0x00};
    for (int i = 0; i < 8; ++i)
      head[1 + i] = static_cast<uint8_t>(static_cast<uint64_t>(leaf) >> (8 * i));
    Begin();
    Update(head, sizeof head);
    Update(values, count * sizeof(float));
    return Finish();
  }
  Digest256 Inner(const Digest256& left, const Digest256& right) {
    const uint8_t tag = 0x01;
    Begin();
    Update(&tag, 1);
    Update(left.data(), left.size());
    Update(right.data(), right.size());
    return Finish();
  }

 private:
  void Begin() { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Update(const void* p, size_t n) { EVP_DigestUpdate(ctx_.get(), p, n); }
  Digest256 Finish() {
    Digest256 d{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), d.data(), &len);
    return d;
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

int64_t LeavesPerRow(int64_t n) {
  return (n + kLeafFloats - 1) / kLeafFloats;
}

// The leaf's first column and its number of entries.
std::pair<int64_t, int64_t> LeafSpan(int64_t n, int64_t leaf) {
  const int64_t first = (leaf % LeavesPerRow(n)) * kLeafFloats;
  return {first, std::min(kLeafFloats, n - first)};
}

}  // namespace

int64_t LeafCount(int64_t m, int64_t n) {
  return m * LeavesPerRow(n);
}

GemmCommitment GemmCommitment::Build(const float* c, int64_t m, int64_t n) {
  GemmCommitment t;
  t.m_ = m;
  t.n_ = n;
  Hasher h;
  std::vector<Digest256> level(static_cast<size_t>(LeafCount(m, n)));
  for (int64_t leaf = 0; leaf < static_cast<int64_t>(level.size()); ++leaf) {
    const int64_t row = leaf / LeavesPerRow(n);
    const auto [first, count] = LeafSpan(n, leaf);
    level[static_cast<size_t>(leaf)] =
        h.Leaf(leaf, c + row * n + first, static_cast<size_t>(count));
  }
  t.levels_.push_back(std::move(level));
  while (t.levels_.back().size() > 1) {
    const auto& below = t.levels_.back();
    std::vector<Digest256> up((below.size() + 1) / 2);
    for (size_t i = 0; i < up.size(); ++i) {
      up[i] = 2 * i + 1 < below.size() ? h.Inner(below[2 * i], below[2 * i + 1]) : below[2 * i];
    }
    t.levels_.push_back(std::move(up));
  }
  return t;
}

LeafOpening GemmCommitment::Open(const float* c, int64_t row, int64_t col) const {
  LeafOpening o;
  o.leaf = row * LeavesPerRow(n_) + col / kLeafFloats;
  const auto [first, count] = LeafSpan(n_, o.leaf);
  o.values.assign(c + row * n_ + first, c + row * n_ + first + count);
  size_t i = static_cast<size_t>(o.leaf);
  for (size_t l = 0; l + 1 < levels_.size(); ++l, i /= 2) {
    const size_t sibling = i ^ 1;
    if (sibling < levels_[l].size()) o.path.push_back(levels_[l][sibling]);
  }
  return o;
}

Status VerifyLeafOpening(const Digest256& root, int64_t m, int64_t n, int64_t row, int64_t col,
                         const LeafOpening& o, float* value) {
  if (m < 1 || n < 1 || row < 0 || row >= m || col < 0 || col >= n) {
    return Status::Invalid("opening: position outside the matrix");
  }
  const int64_t want = row * LeavesPerRow(n) + col / kLeafFloats;
  if (o.leaf != want) {
    return Status::Invalid("opening: leaf " + std::to_string(o.leaf) + " given, C[" +
                           std::to_string(row) + "][" + std::to_string(col) + "] is in leaf " +
                           std::to_string(want));
  }
  const auto [first, count] = LeafSpan(n, want);
  if (static_cast<int64_t>(o.values.size()) != count) {
    return Status::Invalid("opening: leaf " + std::to_string(want) + " has " +
                           std::to_string(count) + " entries, " + std::to_string(o.values.size()) +
                           " given");
  }
  Hasher h;
  Digest256 node = h.Leaf(want, o.values.data(), o.values.size());
  int64_t i = want, size = LeafCount(m, n);
  size_t used = 0;
  while (size > 1) {
    if ((i ^ 1) < size) {
      if (used == o.path.size()) return Status::Invalid("opening: the path is too short");
      node = (i % 2 == 0) ? h.Inner(node, o.path[used]) : h.Inner(o.path[used], node);
      ++used;
    }
    i /= 2;
    size = (size + 1) / 2;
  }
  if (used != o.path.size()) return Status::Invalid("opening: the path is too long");
  if (node != root) {
    return Status::Invalid("opening: leaf " + std::to_string(want) +
                           " does not lead to the committed root (C changed after the commitment)");
  }
  *value = o.values[static_cast<size_t>(col - first)];
  return Status::Ok();
}

std::string HexDigest(const Digest256& d) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

}  // namespace corral::kernels
