#include "common/hostlist.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(Hostlist, CompressesRanges) {
  EXPECT_EQ(CompressHostlist({"n1", "n2", "n3", "n5", "gpu7"}), "n[1-3,5],gpu7");
  EXPECT_EQ(CompressHostlist({"cpu1"}), "cpu1");
  EXPECT_EQ(CompressHostlist({"login", "n01", "n02"}), "login,n[01-02]");
  EXPECT_EQ(CompressHostlist({}), "");
}

TEST(Hostlist, ExpandsWhatItCompresses) {
  std::vector<std::string> hosts = {"n1", "n2", "n3", "n5", "gpu7", "h100-0"};
  auto back = ExpandHostlist(CompressHostlist(hosts));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, hosts);
  auto padded = ExpandHostlist("n[08-10]");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(*padded, (std::vector<std::string>{"n08", "n09", "n10"}));
}

TEST(Hostlist, RejectsHostileInput) {
  for (const char* bad : {"n[1-", "n[a-b]", "n[3-1]", "n[1-999999999]", "n[-]", "n[]"}) {
    auto r = ExpandHostlist(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("hostlist"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace corral
