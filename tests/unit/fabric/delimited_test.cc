// Delimited streams (the listings' wire form): round trip, and what a hostile stream does.
#include "fabric/delimited.h"

#include <gtest/gtest.h>

#include <string>

#include "fabric/proto/corral.pb.h"

namespace corral {
namespace {

v1::JobBrief Brief(int64_t id, const std::string& name) {
  v1::JobBrief b;
  b.set_id(id);
  b.set_name(name);
  b.set_state("PENDING");
  return b;
}

TEST(Delimited, RoundTripsInOrder) {
  std::string s;
  for (int i = 1; i <= 300; ++i) s += EncodeDelimited(Brief(i, std::string(i, 'n')));
  DelimitedReader r(s);
  v1::JobBrief b;
  int n = 0;
  while (r.Next(&b)) {
    ++n;
    EXPECT_EQ(b.id(), n);
    EXPECT_EQ(b.name().size(), static_cast<size_t>(n));
  }
  EXPECT_EQ(n, 300);
  EXPECT_FALSE(r.error());
}

TEST(Delimited, EmptyStreamIsNoEntriesAndNoError) {
  DelimitedReader r("");
  v1::JobBrief b;
  EXPECT_FALSE(r.Next(&b));
  EXPECT_FALSE(r.error());
}

TEST(Delimited, DefaultBriefIsAZeroLengthEntry) {
  std::string s = EncodeDelimited(v1::JobBrief());
  EXPECT_EQ(s, std::string(1, '\0'));
  DelimitedReader r(s);
  v1::JobBrief b = Brief(5, "x");
  ASSERT_TRUE(r.Next(&b));
  EXPECT_EQ(b.id(), 0);  // parsing replaces what was there
  EXPECT_FALSE(r.Next(&b));
  EXPECT_FALSE(r.error());
}

TEST(Delimited, TruncatedEntryIsAnError) {
  std::string s = EncodeDelimited(Brief(1, "a")) + EncodeDelimited(Brief(2, "bbbb"));
  s.pop_back();
  DelimitedReader r(s);
  v1::JobBrief b;
  EXPECT_TRUE(r.Next(&b));
  EXPECT_FALSE(r.Next(&b));
  EXPECT_TRUE(r.error());
  EXPECT_FALSE(r.Next(&b));  // stays stopped
}

TEST(Delimited, HostileLengthsAndBytesAreErrorsNotCrashes) {
  v1::JobBrief b;
  // A varint that never ends, a length far past the end, and a length of 2^32-1.
  for (const std::string& s :
       {std::string(20, '\xff'), std::string("\x80\x80\x80\x80\x01", 5) + "abc",
        std::string("\xff\xff\xff\xff\x0f", 5), std::string("\x05\xff\xff\xff\xff\xff", 6)}) {
    DelimitedReader r(s);
    while (r.Next(&b)) {
    }
    EXPECT_TRUE(r.error()) << "stream of " << s.size() << " bytes";
  }
}

}  // namespace
}  // namespace corral
