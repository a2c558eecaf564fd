// The commitment to C: every entry opens against the root with its own value, the root matches
// SHA-256 computed by hand for the smallest trees, and every kind of forged opening is refused.
#include "kernels/gemm_commit.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <vector>

#include "kernels/seeded.h"

namespace corral::kernels {
namespace {

std::vector<float> Matrix(int64_t m, int64_t n, uint64_t seed) {
  std::vector<float> c(static_cast<size_t>(m * n));
  for (size_t i = 0; i < c.size(); ++i) c[i] = Symmetric(Hash(seed, i)) * 100;
  return c;
}

Digest256 Sha256(const std::vector<uint8_t>& bytes) {
  Digest256 d{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

std::vector<uint8_t> LeafBytes(int64_t leaf, const float* v, size_t count) {
  std::vector<uint8_t> b{0x00};
  for (int i = 0; i < 8; ++i)
    b.push_back(static_cast<uint8_t>(static_cast<uint64_t>(leaf) >> (8 * i)));
  const auto* p = reinterpret_cast<const uint8_t*>(v);
  b.insert(b.end(), p, p + count * sizeof(float));
  return b;
}

TEST(GemmCommit, RootIsTheDocumentedHash) {
  // One leaf: the root is the leaf's hash.
  std::vector<float> one = Matrix(1, 3, 1);
  EXPECT_EQ(GemmCommitment::Build(one.data(), 1, 3).root(), Sha256(LeafBytes(0, one.data(), 3)));
  // Two rows, one leaf each: the root hashes 0x01 | left | right.
  std::vector<float> two = Matrix(2, 5, 2);
  Digest256 l = Sha256(LeafBytes(0, two.data(), 5)), r = Sha256(LeafBytes(1, two.data() + 5, 5));
  std::vector<uint8_t> inner{0x01};
  inner.insert(inner.end(), l.begin(), l.end());
  inner.insert(inner.end(), r.begin(), r.end());
  EXPECT_EQ(GemmCommitment::Build(two.data(), 2, 5).root(), Sha256(inner));
  // Three leaves: the third moves up unchanged and pairs with the first two's parent.
  std::vector<float> three = Matrix(3, 2, 3);
  Digest256 a = Sha256(LeafBytes(0, three.data(), 2)),
            b = Sha256(LeafBytes(1, three.data() + 2, 2)),
            c = Sha256(LeafBytes(2, three.data() + 4, 2));
  std::vector<uint8_t> ab{0x01};
  ab.insert(ab.end(), a.begin(), a.end());
  ab.insert(ab.end(), b.begin(), b.end());
  Digest256 p = Sha256(ab);
  std::vector<uint8_t> top{0x01};
  top.insert(top.end(), p.begin(), p.end());
  top.insert(top.end(), c.begin(), c.end());
  EXPECT_EQ(GemmCommitment::Build(three.data(), 3, 2).root(), Sha256(top));
}

TEST(GemmCommit, EveryEntryOpensWithItsValue) {
  struct Shape {
    int64_t m, n;
  };
  for (Shape s : std::vector<Shape>{{1, 1}, {7, 7}, {3, 300}, {5, 512}, {129, 513}}) {
    const std::vector<float> c = Matrix(s.m, s.n, 7);
    const GemmCommitment t = GemmCommitment::Build(c.data(), s.m, s.n);
    EXPECT_EQ(LeafCount(s.m, s.n), s.m * ((s.n + 255) / 256));
    for (int64_t row = 0; row < s.m; ++row) {
      for (int64_t col = 0; col < s.n; col += (s.n > 64 ? 61 : 1)) {
        float v = 0;
        const Status st =
            VerifyLeafOpening(t.root(), s.m, s.n, row, col, t.Open(c.data(), row, col), &v);
        ASSERT_TRUE(st.ok()) << s.m << "x" << s.n << " C[" << row << "][" << col
                             << "]: " << st.message();
        EXPECT_EQ(v, c[static_cast<size_t>(row * s.n + col)]);
      }
    }
  }
}

TEST(GemmCommit, ForgedOpeningsAreRefused) {
  const int64_t m = 9, n = 600;
  std::vector<float> c = Matrix(m, n, 11);
  const GemmCommitment t = GemmCommitment::Build(c.data(), m, n);
  const LeafOpening good = t.Open(c.data(), 4, 300);
  float v = 0;
  ASSERT_TRUE(VerifyLeafOpening(t.root(), m, n, 4, 300, good, &v).ok());
  auto refused = [&](const LeafOpening& o, const std::string& why, int64_t row = 4,
                     int64_t col = 300) {
    const Status st = VerifyLeafOpening(t.root(), m, n, row, col, o, &v);
    EXPECT_EQ(st.code(), Status::Code::kInvalid) << why;
    EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
  };
  LeafOpening changed = good;
  changed.values[300 - 256] += 1;
  refused(changed, "does not lead to the committed root");
  LeafOpening elsewhere = t.Open(c.data(), 4, 0);
  refused(elsewhere, "is in leaf");
  LeafOpening fewer = good;
  fewer.values.pop_back();
  refused(fewer, "entries");
  LeafOpening shorter = good;
  shorter.path.pop_back();
  refused(shorter, "too short");
  LeafOpening longer = good;
  longer.path.push_back(longer.path.front());
  refused(longer, "too long");
  LeafOpening swapped = good;
  std::swap(swapped.path[0], swapped.path[1]);
  refused(swapped, "does not lead");
  refused(good, "outside the matrix", m, 0);
  refused(good, "outside the matrix", 0, -1);
  // The opening of another matrix's commitment (one entry differs) does not fit this root.
  std::vector<float> other = c;
  other[static_cast<size_t>(8 * n + 599)] += 0.5f;
  const GemmCommitment t2 = GemmCommitment::Build(other.data(), m, n);
  EXPECT_NE(t2.root(), t.root());
  refused(t2.Open(other.data(), 8, 599), "does not lead", 8, 599);
}

TEST(GemmCommit, EverySingleEntryChangesTheRoot) {
  const int64_t m = 3, n = 260;
  std::vector<float> c = Matrix(m, n, 5);
  const Digest256 root = GemmCommitment::Build(c.data(), m, n).root();
  for (size_t i = 0; i < c.size(); ++i) {
    c[i] += 1;
    EXPECT_NE(GemmCommitment::Build(c.data(), m, n).root(), root) << i;
    c[i] -= 1;
  }
  EXPECT_EQ(HexDigest(root).size(), 64u);
}

}  // namespace
}  // namespace corral::kernels
