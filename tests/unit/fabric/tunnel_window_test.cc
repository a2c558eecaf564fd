#include "fabric/tunnel_window.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(SendWindow, SpendsItsCreditAndTakesMoreBack) {
  SendWindow w;
  EXPECT_EQ(w.allowed(), kTunnelWindow);
  EXPECT_EQ(w.NextChunk(), kTunnelChunk);
  w.Spend(kTunnelWindow - 10);
  EXPECT_EQ(w.allowed(), 10u);
  EXPECT_EQ(w.NextChunk(), 10u);
  w.Spend(10);
  EXPECT_EQ(w.NextChunk(), 0u);  // nothing may go out until credit comes back
  EXPECT_TRUE(w.Grant(1000));
  EXPECT_EQ(w.allowed(), 1000u);
}

TEST(SendWindow, RefusesCreditBeyondAWindow) {
  SendWindow w;
  EXPECT_FALSE(w.Grant(1));  // full already: a peer that says otherwise is broken
  w.Spend(100);
  EXPECT_FALSE(w.Grant(101));
  EXPECT_FALSE(w.Grant(UINT64_MAX));  // no overflow
  EXPECT_TRUE(w.Grant(100));
}

TEST(ReceiveWindow, RefusesASenderThatOverrunsIt) {
  ReceiveWindow r;
  EXPECT_TRUE(r.Receive(kTunnelWindow - 1));
  EXPECT_TRUE(r.Receive(1));
  EXPECT_FALSE(r.Receive(1));
  EXPECT_FALSE(r.Receive(UINT64_MAX));
  EXPECT_EQ(r.outstanding(), kTunnelWindow);
}

TEST(ReceiveWindow, BatchesCreditUntilAQuarterOrAllIsHandedOn) {
  ReceiveWindow r;
  ASSERT_TRUE(r.Receive(kTunnelWindow));
  EXPECT_EQ(r.Consumed(1000), 0u);  // small: owed, not sent yet
  EXPECT_EQ(r.Consumed(kTunnelWindow / 4), kTunnelWindow / 4 + 1000);
  EXPECT_EQ(r.outstanding(), kTunnelWindow - kTunnelWindow / 4 - 1000);
  // Everything outstanding handed on: all of it goes back, however small.
  ReceiveWindow s;
  ASSERT_TRUE(s.Receive(10));
  EXPECT_EQ(s.Consumed(10), 10u);
  EXPECT_EQ(s.outstanding(), 0u);
}

TEST(ReceiveWindow, ARelayRefusesCreditThatWasNotOwed) {
  ReceiveWindow relay;
  ASSERT_TRUE(relay.Receive(500));
  EXPECT_FALSE(relay.Credit(501));
  EXPECT_TRUE(relay.Credit(500));
  EXPECT_FALSE(relay.Credit(1));
  // A sender kept to its window can never be cut by a relay that counts the same way.
  SendWindow sender;
  for (int round = 0; round < 100; ++round) {
    uint64_t n = sender.NextChunk();
    sender.Spend(n);
    ASSERT_TRUE(relay.Receive(n));
    if (sender.allowed() == 0) {
      ASSERT_TRUE(relay.Credit(relay.outstanding()));
      ASSERT_TRUE(sender.Grant(kTunnelWindow));
    }
  }
}

}  // namespace
}  // namespace corral
