#include "cli/forward_spec.h"

#include <gtest/gtest.h>

namespace corral::cli {
namespace {

TEST(ForwardSpec, TakesTheFormsOfSshL) {
  auto a = ParseForwardSpec("8888");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->bind, "127.0.0.1");
  EXPECT_EQ(a->local, 8888);
  EXPECT_EQ(a->remote, 8888);
  auto b = ParseForwardSpec("0:6006");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->local, 0);  // a free port
  EXPECT_EQ(b->remote, 6006);
  auto c = ParseForwardSpec("0.0.0.0:9000:8265");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bind, "0.0.0.0");
  EXPECT_FALSE(c->ipv6);
  EXPECT_EQ(c->local, 9000);
  EXPECT_EQ(c->remote, 8265);
  auto d = ParseForwardSpec("[::1]:9000:8888");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->bind, "::1");
  EXPECT_TRUE(d->ipv6);
  EXPECT_EQ(d->local, 9000);
}

TEST(ForwardSpec, RefusesHostileInputNamingWhatIsWrong) {
  struct Case {
    const char* in;
    const char* says;
  } cases[] = {
      {"", "remote port"},
      {"0", "remote port 0"},
      {"65536", "remote port 65536"},
      {"99999999999999999999", "not a number"},
      {"-1", "not a number"},
      {"80:", "remote port"},
      {":80", "local port"},
      {"70000:80", "local port 70000"},
      {"a:b", "not a number"},
      {"1:2:3:4", "give REMOTE"},
      {"300.1.1.1:80:80", "not an IPv4 address"},
      {"localhost:80:80", "not an IPv4 address"},
      {"[::1:80:80", "bracketed"},
      {"[nonsense]:80:80", "not an IPv6 address"},
      {"[::1]:80", "ADDR:LOCAL:REMOTE"},
      {"8888\n", "not a number"},
  };
  for (const auto& c : cases) {
    auto r = ParseForwardSpec(c.in);
    EXPECT_FALSE(r.ok()) << c.in;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(c.says), std::string::npos)
          << c.in << ": " << r.status().message();
    }
  }
}

}  // namespace
}  // namespace corral::cli
