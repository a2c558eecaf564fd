// The table that every call is checked against: user tokens by hash, with roles, expiry and
// revocation; join tokens that are spent; job tokens that are MACed; node certificates known by
// fingerprint. Whatever is wrong, the refusal says the same; the log line says what.
#include "sched/ctld/access.h"

#include <gtest/gtest.h>

#include "fabric/pki.h"

namespace corral::ctld {
namespace {

v1::AccessToken Token(const std::string& id, const std::string& secret, const std::string& role,
                      const std::string& user) {
  v1::AccessToken t;
  t.set_id(id);
  t.set_hash(pki::Sha256Hex(secret));
  t.set_role(role);
  t.set_user(user);
  return t;
}

TEST(Access, AUserTokenIsKnownByItsSecretAndRole) {
  AccessTable table("jobkey0123456789", "pin");
  table.Put(Token("aa11", "5ec7e7", "operator", "alice"));
  std::string why;
  auto c = table.ByToken("ct1.aa11.5ec7e7", 1000, &why);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->role, Role::kOperator);
  EXPECT_TRUE(c->operator_or_admin());
  EXPECT_FALSE(c->admin());
}

TEST(Access, EveryBadTokenGetsTheSameRefusal) {
  AccessTable table("jobkey0123456789", "pin");
  v1::AccessToken expired = Token("bb22", "5ec7e7", "user", "bob");
  expired.set_expires_ms(500);
  v1::AccessToken revoked = Token("cc33", "5ec7e7", "admin", "carol");
  revoked.set_revoked(true);
  table.Put(Token("aa11", "5ec7e7", "user", "alice"));
  table.Put(expired);
  table.Put(revoked);
  table.Put(Token("dd44", "5ec7e7", "join", ""));
  std::string first;
  for (const std::string& bad :
       {std::string("ct1.aa11.000000"), std::string("ct1.zz99.5ec7e7"),
        std::string("ct1.bb22.5ec7e7"), std::string("ct1.cc33.5ec7e7"),
        std::string("ct1.dd44.5ec7e7"), std::string(""), std::string("Bearer"),
        std::string("ct1..."), std::string("ct1.aa11.5ec7e7.extra"), std::string(600, 'a'),
        std::string("cjob1.1.zz.99999999999.mac"), std::string("cjob1.x.61.1.00"),
        std::string("ct1.AA11.5EC7E7")}) {
    std::string why;
    auto c = table.ByToken(bad, 1000, &why);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), Status::Code::kUnauthenticated);
    if (first.empty()) first = c.status().message();
    EXPECT_EQ(c.status().message(), first) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(Access, AJobTokenIsItsUsersUntilItExpiresAndCannotBeForged) {
  AccessTable table("jobkey0123456789", "pin");
  const std::string tok = table.JobToken(42, "alice", 5000);
  std::string why;
  auto c = table.ByToken(tok, 4000, &why);
  ASSERT_TRUE(c.ok()) << why;
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->job_id, 42);
  EXPECT_EQ(c->role, Role::kUser);
  EXPECT_FALSE(table.ByToken(tok, 6000, &why).ok());
  // Another user's name in it, or another controller's key: the MAC no longer checks.
  std::string other = tok;
  other.replace(other.find("616c696365"), 10, "6d616c6c6f");  // alice -> mallo
  EXPECT_FALSE(table.ByToken(other, 4000, &why).ok());
  AccessTable elsewhere("anotherkey000000", "pin");
  EXPECT_FALSE(elsewhere.ByToken(tok, 4000, &why).ok());
}

TEST(Access, AJoinTokenIsSpentAndPinsTheCa) {
  AccessTable table("jobkey0123456789", "feedbeef");
  v1::AccessToken j = Token("ee55", "5ec7e7", "join", "");
  j.set_uses_left(1);
  table.Put(j);
  EXPECT_EQ(table.Format(j, "5ec7e7"), "cj1.ee55.5ec7e7.feedbeef");
  std::string why;
  EXPECT_TRUE(table.JoinToken("cj1.ee55.5ec7e7.feedbeef", 1000, &why).ok()) << why;
  // A join token is no user's, and a user's token joins nothing.
  EXPECT_FALSE(table.ByToken("ct1.ee55.5ec7e7", 1000, &why).ok());
  table.Put(Token("aa11", "5ec7e7", "admin", "root"));
  EXPECT_FALSE(table.JoinToken("cj1.aa11.5ec7e7.feedbeef", 1000, &why).ok());
  j.set_uses_left(0);
  table.Put(j);
  EXPECT_FALSE(table.JoinToken("cj1.ee55.5ec7e7.feedbeef", 1000, &why).ok());
  EXPECT_NE(why.find("spent"), std::string::npos) << why;
}

TEST(Access, ANodeCertificateIsKnownByItsFingerprintUntilForgotten) {
  auto ca = pki::NewCa("test", 10);
  ASSERT_TRUE(ca.ok());
  pki::Leaf leaf;
  leaf.common_name = "gpu1";
  leaf.uri = "corral:node:gpu1";
  auto cert = pki::IssueNew(*ca, leaf);
  ASSERT_TRUE(cert.ok());
  AccessTable table("jobkey0123456789", "pin");
  std::string why;
  EXPECT_FALSE(table.ByCertificate(cert->cert_pem, 1000, &why).ok());
  v1::NodeIdentity id;
  id.set_fingerprint(pki::Inspect(cert->cert_pem)->fingerprint);
  id.set_name("gpu1");
  id.set_fleet(3);
  table.Put(id);
  auto c = table.ByCertificate(cert->cert_pem, 1000, &why);
  ASSERT_TRUE(c.ok()) << why;
  EXPECT_EQ(c->role, Role::kNode);
  EXPECT_EQ(c->user, "gpu1");
  EXPECT_EQ(c->fleet, 3);
  table.RemoveIdentity(id.fingerprint());
  EXPECT_FALSE(table.ByCertificate(cert->cert_pem, 1000, &why).ok());
  EXPECT_FALSE(table.ByCertificate("garbage", 1000, &why).ok());
}

}  // namespace
}  // namespace corral::ctld
