// The cluster's certificates: a CA signs a server and a node certificate, the node's CSR proves
// its key, and what another CA signed, or garbage, is refused with a reason.
#include "fabric/pki.h"

#include <gtest/gtest.h>

namespace corral::pki {
namespace {

TEST(Pki, CaSignsAServerCertificateThatChecksAgainstIt) {
  auto ca = NewCa("test CA", 10);
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  ASSERT_TRUE(VerifySignedBy(ca->cert_pem, ca->cert_pem).ok());
  Leaf leaf;
  leaf.common_name = "corrald";
  leaf.server = true;
  leaf.dns = {"ctl.example"};
  leaf.ips = {"127.0.0.1", "::1"};
  auto server = IssueNew(*ca, leaf);
  ASSERT_TRUE(server.ok()) << server.status().message();
  EXPECT_TRUE(VerifySignedBy(ca->cert_pem, server->cert_pem).ok());
  auto info = Inspect(server->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "corrald");
  EXPECT_EQ(info->fingerprint.size(), 64u);
  EXPECT_GT(info->not_after_ms, 0);
}

TEST(Pki, ACsrProvesItsKeyAndTheNodeCertificateIsTheCas) {
  auto ca = NewCa("test CA", 10);
  ASSERT_TRUE(ca.ok());
  auto key = NewKey();
  ASSERT_TRUE(key.ok());
  auto csr = NewCsr(*key, "gpu1");
  ASSERT_TRUE(csr.ok()) << csr.status().message();
  auto pub = CsrPublicKey(*csr);
  ASSERT_TRUE(pub.ok()) << pub.status().message();
  Leaf leaf;
  leaf.common_name = "gpu1";
  leaf.uri = "corral:node:gpu1";
  auto cert = Issue(*ca, *pub, leaf);
  ASSERT_TRUE(cert.ok()) << cert.status().message();
  EXPECT_TRUE(VerifySignedBy(ca->cert_pem, *cert).ok());
  EXPECT_EQ(Inspect(*cert)->common_name, "gpu1");
  // Each certificate is its own: a second one for the same key differs (random serial).
  EXPECT_NE(Inspect(*cert)->fingerprint, Inspect(*Issue(*ca, *pub, leaf))->fingerprint);
}

TEST(Pki, AnotherCasCertificateIsRefused) {
  auto ca = NewCa("ours", 10);
  auto other = NewCa("theirs", 10);
  ASSERT_TRUE(ca.ok() && other.ok());
  Leaf leaf;
  leaf.common_name = "gpu1";
  leaf.uri = "corral:node:gpu1";
  auto forged = IssueNew(*other, leaf);
  ASSERT_TRUE(forged.ok());
  Status s = VerifySignedBy(ca->cert_pem, forged->cert_pem);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("certificate"), std::string::npos) << s.message();
}

TEST(Pki, HostileInputIsRefusedWithAReason) {
  auto ca = NewCa("test CA", 10);
  ASSERT_TRUE(ca.ok());
  for (const std::string& bad : {std::string(), std::string("garbage"),
                                 std::string("-----BEGIN CERTIFICATE REQUEST-----\n"
                                             "AAAA\n-----END CERTIFICATE REQUEST-----\n"),
                                 std::string(1 << 17, 'A')}) {
    auto pub = CsrPublicKey(bad);
    EXPECT_FALSE(pub.ok());
    EXPECT_NE(pub.status().message().find("csr"), std::string::npos) << pub.status().message();
    EXPECT_FALSE(Inspect(bad).ok());
    EXPECT_FALSE(VerifySignedBy(ca->cert_pem, bad).ok());
  }
  // A CSR whose signature does not match its key: one byte of the signature changed.
  auto key = NewKey();
  auto csr = NewCsr(*key, "gpu1");
  ASSERT_TRUE(csr.ok());
  std::string tampered = *csr;
  size_t end = tampered.find("-----END");
  tampered[end - 6] = tampered[end - 6] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(CsrPublicKey(tampered).ok());
  // Names that would break the certificate's fields.
  Leaf leaf;
  leaf.common_name = "x";
  leaf.uri = "corral:node:a,DNS:corrald";
  auto pub = CsrPublicKey(*csr);
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(Issue(*ca, *pub, leaf).ok());
  leaf.uri = "corral:node:x";
  leaf.common_name = std::string(65, 'n');
  EXPECT_FALSE(Issue(*ca, *pub, leaf).ok());
  EXPECT_FALSE(NewCsr("not a key", "x").ok());
}

TEST(Pki, DigestsAndSecrets) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacHex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(RandomHex(20).size(), 40u);
  EXPECT_NE(RandomHex(20), RandomHex(20));
  EXPECT_TRUE(SecretEqual("abc", "abc"));
  EXPECT_FALSE(SecretEqual("abc", "abd"));
  EXPECT_FALSE(SecretEqual("abc", "abcd"));
}

}  // namespace
}  // namespace corral::pki
