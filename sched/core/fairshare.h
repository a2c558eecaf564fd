// Fair share over an account tree, as Slurm's Fair Tree algorithm computes it. Each account and
// user association has shares of its parent; usage charged to an association counts against it
// and all its ancestors, and decays with a half-life. At each level, siblings (accounts and users
// alike) are ranked by their level fairshare LF = S / U: S is their shares over the siblings'
// shares, U their usage over the parent's (the siblings' plus any charged to the parent itself).
// The tree is walked depth-first in that order, so every user of a more fairly served account
// ranks above every user of a less fairly served sibling account. A user's factor is its rank
// over the number of user associations n: the first gets kOne, the last (untied) kOne / n.
// Ties, as in Slurm: sibling users with the same LF share a rank (the next one skips it);
// sibling accounts with the same LF have their children ranked together; a user tied with a
// sibling account shares its rank with that account's first user.
// No usage (and shares > 0): LF is infinite, the most fair. Shares 0: LF 0, below every sibling
// with shares, whatever the usage. Pure; not thread-safe (the ranking is cached).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace corral::sched {

struct FairShareAccount {
  std::string name;
  std::string parent;  // "" = directly under the root
  int64_t shares = 1;  // Slurm's Fairshare=
};

struct FairShareUser {
  std::string user;
  std::string account;
  int64_t shares = 1;
};

// Usage charged to one node itself, not to its descendants: what the caller persists.
// user "" = the account itself; account "" (and user "") = the root.
struct FairShareUsage {
  std::string account;
  std::string user;
  double usage = 0;
};

class FairShareTree {
 public:
  static constexpr int64_t kMaxShares = 1000000000;
  static constexpr const char* kRoot = "root";  // reserved: no account may have this name

  // Names are non-empty letters, digits, '_', '-' and '.'; each account is defined once, its
  // parent exists and no chain of parents loops; shares are 0..kMaxShares; each (user, account)
  // is defined once, under an existing account. The error names the account or user and field,
  // e.g. `account physics: parent "x": no such account`, `account a: parent cycle a -> b -> a`.
  static Result<FairShareTree> Build(std::vector<FairShareAccount> accounts,
                                     std::vector<FairShareUser> users);

  // Whether `user` has an association under `account` (Slurm rejects jobs without one).
  bool Has(const std::string& account, const std::string& user) const;

  // Charges `usage` (any unit; the caller uses billing-seconds) to the association and all its
  // ancestors. Without an association, to `account` itself if it exists: it counts against the
  // account and its ancestors, against none of its users. Else to the root: recorded, ranking
  // no one lower. Usage <= 0, NaN or infinite is ignored: nothing is ever refunded.
  void AddUsage(const std::string& account, const std::string& user, double usage);

  // Multiplies every usage by 2^(-elapsed / half_life) (Slurm's PriorityDecayHalfLife).
  // elapsed <= 0 or half_life <= 0: no decay.
  void Decay(TimeMs elapsed_ms, TimeMs half_life_ms);

  // The association's fair-share factor, kOne / n .. kOne; 0 without an association, below
  // every user that has one.
  int64_t Factor(const std::string& account, const std::string& user) const;

  // For `corral share`: the root (depth 0, account kRoot, counted as its own only sibling), then
  // depth-first each account's user associations, then its sub-accounts, each by name.
  struct Row {
    int depth = 0;
    std::string account;          // the account, or the association's
    std::string user;             // "" on an account's row
    int64_t shares = 0;           // as configured
    int64_t norm_shares = 0;      // S: of the siblings' shares, kOne = all of them
    double usage = 0;             // decayed, with the descendants'
    int64_t effective_usage = 0;  // U: of the parent's usage, kOne = all of it
    double level_fs = 0;          // S / U; infinite without usage (and shares > 0)
    int64_t factor = 0;           // Factor() on a user's row; 0 on an account's
  };
  std::vector<Row> Report() const;

  // The usage charged to each node itself, for the caller to persist: the root first, then
  // depth-first as Report; nodes without usage are left out.
  std::vector<FairShareUsage> Usage() const;
  // Replaces all usage with `usage` (from Usage(), maybe of an older tree): a record whose
  // association or account no longer exists is charged as AddUsage charges it. A negative or
  // non-finite usage is an error naming the record, and nothing changes.
  Status RestoreUsage(const std::vector<FairShareUsage>& usage);

 private:
  struct Node {
    std::string account, user;  // user "" on an account; both "" on the root
    int parent = -1;
    int64_t shares = 1;
    double own = 0;                    // charged to this node itself
    std::vector<int> users, accounts;  // children, each by name
    // Computed by Rank():
    double usage = 0;  // own plus the descendants'
    int64_t norm_shares = 0, effective_usage = 0;
    long double level_fs = 0;
    int64_t factor = 0;
  };

  FairShareTree() = default;
  int Find(const std::string& account, const std::string& user) const;  // -1 if none
  int ChargeTarget(const std::string& account, const std::string& user) const;
  void Rank() const;  // recomputes the cached ranking if usage changed

  mutable std::vector<Node> nodes_;  // [0] is the root; a parent precedes its children
  std::map<std::pair<std::string, std::string>, int> index_;  // (account, user) -> node
  int64_t user_count_ = 0;
  mutable bool ranked_ = false;
};

}  // namespace corral::sched
