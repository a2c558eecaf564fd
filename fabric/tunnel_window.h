// Flow control of a tunnel (v1::TunnelFrame, `corral attach` and `corral forward`), by credit
// and end to end, as SSH channels do: a sender has at most kTunnelWindow bytes of data that its
// receiver has not yet handed on; the receiver returns credit as it hands bytes on. One busy
// tunnel therefore never holds more than a window in any queue on the way, and the control
// messages that share the node's link are never stuck behind more than that.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace corral {

constexpr uint64_t kTunnelWindow = 256 << 10;
constexpr size_t kTunnelChunk = 32 << 10;  // the largest data frame a sender makes

// The sending side: how much may go out now.
class SendWindow {
 public:
  uint64_t allowed() const { return credit_; }
  // At most kTunnelChunk, and no more than the credit.
  size_t NextChunk() const {
    return static_cast<size_t>(std::min<uint64_t>(credit_, kTunnelChunk));
  }
  void Spend(uint64_t n) { credit_ -= std::min(n, credit_); }
  // Credit the receiver returned. False when it would exceed a window: the peer is broken.
  bool Grant(uint64_t c) {
    if (c > kTunnelWindow || credit_ + c > kTunnelWindow) return false;
    credit_ += c;
    return true;
  }

 private:
  uint64_t credit_ = kTunnelWindow;
};

// The receiving side, and what a relay in the middle checks of each direction: data received
// and not yet credited back.
class ReceiveWindow {
 public:
  uint64_t outstanding() const { return outstanding_; }
  // `n` bytes arrived. False when the sender overran its window.
  bool Receive(uint64_t n) {
    if (n > kTunnelWindow - outstanding_) return false;
    outstanding_ += n;
    return true;
  }
  // For a relay: credit going back. False when it is more than what is outstanding.
  bool Credit(uint64_t c) {
    if (c > outstanding_) return false;
    outstanding_ -= c;
    return true;
  }
  // For an endpoint: `n` bytes were handed on. Returns the credit to send now, batched: zero
  // until a quarter of the window is owed, or all of what is outstanding has been handed on.
  uint64_t Consumed(uint64_t n) {
    owed_ += n;
    if (owed_ < kTunnelWindow / 4 && owed_ < outstanding_) return 0;
    uint64_t c = std::min(owed_, outstanding_);
    outstanding_ -= c;
    owed_ = 0;
    return c;
  }

 private:
  uint64_t outstanding_ = 0;
  uint64_t owed_ = 0;
};

}  // namespace corral
