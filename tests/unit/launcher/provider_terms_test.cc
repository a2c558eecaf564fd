// corral-node's terms flags, hostile values included (launcher/provider_terms.h).
#include "common/provider_terms.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(ProviderTerms, FlagsBecomeTerms) {
  Result<ProviderTerms> t = ParseProviderTerms("1.25", "lab,ops", "4:00:00");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->min_price_micro, 1250000);
  EXPECT_EQ(t->accounts, (std::vector<std::string>{"lab", "ops"}));
  EXPECT_EQ(t->max_time_ms, 4 * 3600 * 1000LL);
  t = ParseProviderTerms("", "", "");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->empty());
}

TEST(ProviderTerms, BadFlagsAreNamed) {
  const std::string long_name(65, 'x');
  struct Case {
    const char *price, *accounts, *time, *flag;
  };
  for (const Case& c :
       {Case{"-1", "", "", "--min-price"}, Case{"abc", "", "", "--min-price"},
        Case{"1e9", "", "", "--min-price"}, Case{"2000000", "", "", "--min-price"},
        Case{"", "a,,b", "", "--accounts"}, Case{"", ",", "", "--accounts"},
        Case{"", "a b", "", "--accounts"}, Case{"", "a\nb", "", "--accounts"},
        Case{"", long_name.c_str(), "", "--accounts"}, Case{"", "", "soon", "--max-time"},
        Case{"", "", "-5", "--max-time"}, Case{"", "", "99999999999999999", "--max-time"}}) {
    Result<ProviderTerms> t = ParseProviderTerms(c.price, c.accounts, c.time);
    ASSERT_FALSE(t.ok()) << c.price << "|" << c.accounts << "|" << c.time;
    EXPECT_EQ(t.status().message().rfind(c.flag, 0), 0u) << t.status().message();
  }
}

}  // namespace
}  // namespace corral
