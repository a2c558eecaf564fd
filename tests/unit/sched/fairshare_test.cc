// Fair Tree fair share: exact factors on small trees (ties, zero shares, zero usage), decay,
// hostile trees, persisted usage, and usage converging to shares under a long synthetic load.
#include "sched/core/fairshare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "sched/core/priority.h"

namespace corral::sched {
namespace {

struct Charge {
  std::string account, user;
  double usage;
};
struct Expect {
  std::string account, user;
  int64_t factor;
};

FairShareTree MustBuild(std::vector<FairShareAccount> accounts, std::vector<FairShareUser> users) {
  auto t = FairShareTree::Build(std::move(accounts), std::move(users));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

// Two accounts with 1:1 shares, two users each with 1:1 shares.
FairShareTree TwoByTwo() {
  return MustBuild({{"A", "", 1}, {"B", "", 1}},
                   {{"a1", "A", 1}, {"a2", "A", 1}, {"b1", "B", 1}, {"b2", "B", 1}});
}

TEST(FairShare, FactorsOnSmallTrees) {
  struct Case {
    std::string name;
    std::vector<FairShareAccount> accounts;
    std::vector<FairShareUser> users;
    std::vector<Charge> charges;
    std::vector<Expect> expect;
  };
  const std::vector<FairShareAccount> ab = {{"A", "", 1}, {"B", "", 1}};
  const std::vector<FairShareUser> ab_users = {
      {"a1", "A", 1}, {"a2", "A", 1}, {"b1", "B", 1}, {"b2", "B", 1}};
  const std::vector<Case> cases = {
      {"no usage: everyone ties at the top",
       ab,
       ab_users,
       {},
       {{"A", "a1", kOne}, {"A", "a2", kOne}, {"B", "b1", kOne}, {"B", "b2", kOne}}},
      // A used 3x what B used: LF(A) = 0.5 / 0.75, LF(B) = 0.5 / 0.25. Every user of B ranks
      // above every user of A, even a1, who used less than b2; within each account, by own LF.
      {"over-served account ranks all its users below",
       ab,
       ab_users,
       {{"A", "a1", 30}, {"A", "a2", 60}, {"B", "b1", 10}, {"B", "b2", 20}},
       {{"B", "b1", kOne}, {"B", "b2", 750000}, {"A", "a1", 500000}, {"A", "a2", 250000}}},
      // b1 and b2 tie: one rank for both; the next user takes the rank after both.
      {"sibling users with equal LF share a rank",
       ab,
       ab_users,
       {{"A", "a1", 30}, {"A", "a2", 60}, {"B", "b1", 15}, {"B", "b2", 15}},
       {{"B", "b1", kOne}, {"B", "b2", kOne}, {"A", "a1", 500000}, {"A", "a2", 250000}}},
      // A and B both used 60 (LF 1): their users are ranked together, by their own LFs
      // (a1 3, b1 1.5, b2 0.75, a2 0.6), not account by account.
      {"sibling accounts with equal LF are ranked together",
       ab,
       ab_users,
       {{"A", "a1", 10}, {"A", "a2", 50}, {"B", "b1", 20}, {"B", "b2", 40}},
       {{"A", "a1", kOne}, {"B", "b1", 750000}, {"B", "b2", 500000}, {"A", "a2", 250000}}},
      // Within P, user u and account Q both have LF 1: Q's first user (q2, no usage) shares
      // u's rank.
      {"user tied with a sibling account shares its first user's rank",
       {{"P", "", 1}, {"Q", "P", 1}},
       {{"u", "P", 1}, {"q1", "Q", 1}, {"q2", "Q", 1}},
       {{"P", "u", 10}, {"Q", "q1", 10}},
       {{"P", "u", kOne}, {"Q", "q2", kOne}, {"Q", "q1", 333333}}},
      // Shares 0: LF 0 whatever the usage. Z's users, even z1 who used nothing, rank below
      // every user of A, which used all but 5; a0 (shares 0, no usage) below a1.
      {"zero shares rank last, zero usage first",
       {{"A", "", 1}, {"Z", "", 0}},
       {{"a0", "A", 0}, {"a1", "A", 1}, {"z1", "Z", 1}, {"z2", "Z", 1}},
       {{"A", "a1", 100}, {"Z", "z2", 5}},
       {{"A", "a1", kOne}, {"A", "a0", 750000}, {"Z", "z1", 500000}, {"Z", "z2", 250000}}},
      // x has 3 of 4 shares and 60% of the usage (LF 1.25), y 1 of 4 and 40% (LF 0.625).
      {"users ranked by shares over usage, not by usage",
       {{"A", "", 1}},
       {{"x", "A", 3}, {"y", "A", 1}},
       {{"A", "x", 30}, {"A", "y", 20}},
       {{"A", "x", kOne}, {"A", "y", 500000}}},
      // The same user in two accounts: two associations, each ranked in its own account.
      {"one user in two accounts",
       ab,
       {{"alice", "A", 1}, {"alice", "B", 1}},
       {{"A", "alice", 10}},
       {{"B", "alice", kOne}, {"A", "alice", 500000}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FairShareTree t = MustBuild(c.accounts, c.users);
    for (const Charge& ch : c.charges) t.AddUsage(ch.account, ch.user, ch.usage);
    for (const Expect& e : c.expect) {
      EXPECT_TRUE(t.Has(e.account, e.user));
      EXPECT_EQ(t.Factor(e.account, e.user), e.factor) << e.account << "/" << e.user;
    }
  }
}

TEST(FairShare, UnknownAssociationsAreChargedUpTheTreeAndHaveNoFactor) {
  FairShareTree t = TwoByTwo();
  t.AddUsage("A", "a1", 10);
  t.AddUsage("B", "b1", 10);
  t.AddUsage("B", "b2", 20);
  // a1 alone used the least; a2 none at all.
  EXPECT_EQ(t.Factor("A", "a2"), kOne);
  EXPECT_EQ(t.Factor("A", "a1"), 750000);
  EXPECT_EQ(t.Factor("B", "b1"), 500000);
  EXPECT_EQ(t.Factor("B", "b2"), 250000);
  // No association: factor 0, below every user that has one.
  EXPECT_FALSE(t.Has("A", "stranger"));
  EXPECT_FALSE(t.Has("nope", "a1"));
  EXPECT_FALSE(t.Has("", ""));
  EXPECT_FALSE(t.Has("A", ""));
  EXPECT_EQ(t.Factor("A", "stranger"), 0);
  EXPECT_EQ(t.Factor("nope", "a1"), 0);
  EXPECT_EQ(t.Factor("A", ""), 0);
  // An unknown account, bad amounts: charged to the root, or not at all; no ranking changes.
  t.AddUsage("nope", "a1", 1000);
  t.AddUsage("A", "a2", -5);
  t.AddUsage("A", "a2", std::numeric_limits<double>::quiet_NaN());
  t.AddUsage("A", "a2", std::numeric_limits<double>::infinity());
  EXPECT_EQ(t.Factor("A", "a2"), kOne);
  EXPECT_EQ(t.Factor("A", "a1"), 750000);
  EXPECT_EQ(t.Report()[0].usage, 1040);
  // A user without an association under A: charged to A itself. A now used 30 + 10 of 70:
  // both its users fall below B's, but keep their order within A.
  t.AddUsage("A", "stranger", 30);
  EXPECT_EQ(t.Factor("B", "b1"), kOne);
  EXPECT_EQ(t.Factor("B", "b2"), 750000);
  EXPECT_EQ(t.Factor("A", "a2"), 500000);
  EXPECT_EQ(t.Factor("A", "a1"), 250000);
}

TEST(FairShare, ReportListsTheTreeDepthFirst) {
  FairShareTree t = MustBuild({{"B", "", 1}, {"A", "", 3}, {"A2", "A", 1}},
                              {{"b1", "B", 1}, {"z", "A", 1}, {"y", "A", 1}, {"c", "A2", 2}});
  t.AddUsage("A", "z", 30);
  t.AddUsage("A2", "c", 10);
  t.AddUsage("B", "b1", 60);
  auto rows = t.Report();
  ASSERT_EQ(rows.size(), 8u);
  std::vector<std::tuple<int, std::string, std::string>> order;
  for (const auto& r : rows) order.emplace_back(r.depth, r.account, r.user);
  std::vector<std::tuple<int, std::string, std::string>> want = {
      {0, "root", ""}, {1, "A", ""},   {2, "A", "y"}, {2, "A", "z"},
      {2, "A2", ""},   {3, "A2", "c"}, {1, "B", ""},  {2, "B", "b1"}};
  EXPECT_EQ(order, want);
  const auto& root = rows[0];
  EXPECT_EQ(root.usage, 100);
  EXPECT_EQ(root.norm_shares, kOne);
  EXPECT_EQ(root.effective_usage, kOne);
  EXPECT_EQ(root.factor, 0);
  // A: 3 of 4 shares, 40 of 100 usage: LF 1.875. B: 1 of 4, 60 of 100: LF 5/12.
  const auto& a = rows[1];
  EXPECT_EQ(a.shares, 3);
  EXPECT_EQ(a.norm_shares, 750000);
  EXPECT_EQ(a.usage, 40);
  EXPECT_EQ(a.effective_usage, 400000);
  EXPECT_DOUBLE_EQ(a.level_fs, 1.875);
  EXPECT_EQ(a.factor, 0);
  // Under A: y, z and A2 have a third of the shares each. y: no usage, infinite LF.
  const auto& y = rows[2];
  EXPECT_EQ(y.norm_shares, 333333);
  EXPECT_EQ(y.usage, 0);
  EXPECT_EQ(y.effective_usage, 0);
  EXPECT_TRUE(std::isinf(y.level_fs));
  // A's children by LF: y (inf), A2 (1/3 / 1/4 = 4/3), z (1/3 / 3/4); then B's b1.
  EXPECT_EQ(y.factor, kOne);
  EXPECT_EQ(rows[5].factor, 750000);  // c
  EXPECT_EQ(rows[3].factor, 500000);  // z
  EXPECT_EQ(rows[7].factor, 250000);  // b1
  EXPECT_EQ(rows[3].effective_usage, 750000);
  EXPECT_DOUBLE_EQ(rows[3].level_fs, 4.0 / 9);
  EXPECT_DOUBLE_EQ(rows[4].level_fs, 4.0 / 3);
  EXPECT_EQ(rows[5].norm_shares, kOne);  // c is A2's only child
  EXPECT_EQ(rows[5].effective_usage, kOne);
  EXPECT_DOUBLE_EQ(rows[5].level_fs, 1.0);
  EXPECT_DOUBLE_EQ(rows[6].level_fs, 5.0 / 12);
}

TEST(FairShare, DecayHalvesUsageEveryHalfLife) {
  constexpr TimeMs kHalfLife = 7LL * 24 * 3600 * 1000;
  FairShareTree t = TwoByTwo();
  t.AddUsage("A", "a1", 1000);
  t.AddUsage("B", "b1", 15);
  t.AddUsage("B", "b2", 15);
  t.AddUsage("B", "stranger", 6);  // charged to B itself: decays too
  t.Decay(kHalfLife, kHalfLife);
  auto usage = t.Usage();
  ASSERT_EQ(usage.size(), 4u);
  EXPECT_EQ(usage[0].account, "A");
  EXPECT_EQ(usage[0].user, "a1");
  EXPECT_EQ(usage[0].usage, 500);
  EXPECT_EQ(usage[1].account, "B");
  EXPECT_EQ(usage[1].user, "");
  EXPECT_EQ(usage[1].usage, 3);
  EXPECT_EQ(t.Report()[0].usage, 500 + 7.5 + 7.5 + 3);
  t.Decay(2 * kHalfLife, kHalfLife);
  EXPECT_EQ(t.Usage()[0].usage, 125);
  // Half a half-life twice is one half-life.
  t.Decay(kHalfLife / 2, kHalfLife);
  t.Decay(kHalfLife / 2, kHalfLife);
  EXPECT_DOUBLE_EQ(t.Usage()[0].usage, 62.5);
  // No time, time backwards, no half-life: no decay.
  double before = t.Usage()[0].usage;
  t.Decay(0, kHalfLife);
  t.Decay(-kHalfLife, kHalfLife);
  t.Decay(kHalfLife, 0);
  t.Decay(kHalfLife, -1);
  EXPECT_EQ(t.Usage()[0].usage, before);
  // B used 4.5 of 67, A 62.5: B's tied users first. Decay scales everyone alike: the ranking,
  // ties included, stays.
  for (int i = 0; i < 2; i++) {
    EXPECT_EQ(t.Factor("B", "b1"), kOne);
    EXPECT_EQ(t.Factor("B", "b2"), kOne);
    EXPECT_EQ(t.Factor("A", "a2"), 500000);
    EXPECT_EQ(t.Factor("A", "a1"), 250000);
    t.Decay(1234567, kHalfLife);
  }
}

TEST(FairShareTree, RejectsHostileTreesWithTheFieldAtFault) {
  struct Case {
    std::vector<FairShareAccount> accounts;
    std::vector<FairShareUser> users;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{{"a", "a", 1}}, {}, "account a: parent cycle a -> a"},
      {{{"a", "b", 1}, {"b", "a", 1}}, {}, "account a: parent cycle a -> b -> a"},
      {{{"x", "", 1}, {"a", "b", 1}, {"b", "c", 1}, {"c", "b", 1}},
       {},
       "account b: parent cycle b -> c -> b"},
      {{{"a", "", -3}}, {}, "account a: shares: must be 0 to 1000000000 (got -3)"},
      {{{"a", "", 1000000001}}, {}, "account a: shares: must be 0 to 1000000000 (got 1000000001)"},
      {{{"physics", "x", 1}}, {}, "account physics: parent \"x\": no such account"},
      {{{"a", "", 1}, {"b", "", 1}, {"a", "b", 2}}, {}, "account a: defined twice"},
      {{{"a", "", 1}, {"", "a", 1}}, {}, "accounts[1]: name: empty"},
      {{{"a b", "", 1}}, {}, "accounts[0]: name: \"a b\": only letters, digits, '_', '-' and '.'"},
      {{{"root", "", 1}},
       {},
       "account root: name: reserved for the tree's root (an account with parent \"\" is under "
       "it)"},
      {{{"a", "", 1}}, {{"alice", "nope", 1}}, "user alice: account \"nope\": no such account"},
      {{{"a", "", 1}}, {{"alice", "", 1}}, "user alice: account: empty"},
      {{{"a", "", 1}}, {{"", "a", 1}}, "users[0]: user: empty"},
      {{{"a", "", 1}},
       {{"bob", "a", 1}, {"al/ice", "a", 1}},
       "users[1]: user: \"al/ice\": only letters, digits, '_', '-' and '.'"},
      {{{"a", "", 1}},
       {{"alice", "a", 1}, {"alice", "a", 2}},
       "user alice (account a): defined twice"},
      {{{"a", "", 1}},
       {{"alice", "a", -1}},
       "user alice (account a): shares: must be 0 to 1000000000 (got -1)"},
  };
  for (const Case& c : cases) {
    auto t = FairShareTree::Build(c.accounts, c.users);
    ASSERT_FALSE(t.ok()) << c.error;
    EXPECT_EQ(t.status().code(), Status::Code::kInvalid);
    EXPECT_EQ(t.status().message(), c.error);
  }
  // The limits themselves are fine, and so is an empty tree.
  EXPECT_TRUE(
      FairShareTree::Build({{"a", "", 0}, {"b.c-d_9", "a", 1000000000}}, {{"u", "b.c-d_9", 0}})
          .ok());
  auto empty = FairShareTree::Build({}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->Factor("a", "u"), 0);
  EXPECT_EQ(empty->Report().size(), 1u);
}

TEST(FairShare, UsageRoundTripsAndRestoreIsAllOrNothing) {
  FairShareTree t = TwoByTwo();
  t.AddUsage("A", "a1", 30);
  t.AddUsage("A", "a2", 60);
  t.AddUsage("B", "b2", 20);
  t.AddUsage("B", "nobody", 4);
  t.AddUsage("nope", "x", 2);
  t.Decay(1000, 3000);
  auto saved = t.Usage();
  ASSERT_EQ(saved.size(), 5u);
  EXPECT_EQ(saved[0].account, "");  // the root's own usage comes first
  EXPECT_EQ(saved[0].user, "");

  FairShareTree u = TwoByTwo();
  ASSERT_TRUE(u.RestoreUsage(saved).ok());
  auto want = t.Report();
  auto got = u.Report();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); i++) {
    EXPECT_EQ(got[i].usage, want[i].usage) << i;
    EXPECT_EQ(got[i].factor, want[i].factor) << i;
  }
  // A bad record: an error naming it, and nothing changes.
  auto bad = saved;
  bad.push_back({"A", "a1", -1});
  Status s = u.RestoreUsage(bad);
  EXPECT_EQ(s.code(), Status::Code::kInvalid);
  EXPECT_EQ(s.message(),
            "usage[5] (account \"A\", user \"a1\"): usage: must be a finite number >= 0");
  EXPECT_FALSE(u.RestoreUsage({{"A", "a1", std::numeric_limits<double>::infinity()}}).ok());
  EXPECT_EQ(u.Report()[0].usage, want[0].usage);
  // A tree without b2 and without account A: b2's usage goes to B, A's users' to the root.
  FairShareTree v = MustBuild({{"B", "", 1}}, {{"b1", "B", 1}});
  ASSERT_TRUE(v.RestoreUsage(saved).ok());
  auto rows = v.Report();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_DOUBLE_EQ(rows[0].usage, want[0].usage);
  EXPECT_DOUBLE_EQ(rows[1].usage, (20 + 4) * std::exp2(-1.0 / 3));
  EXPECT_EQ(rows[2].usage, 0);
  // Restoring replaces: an empty list clears everything.
  ASSERT_TRUE(v.RestoreUsage({}).ok());
  EXPECT_EQ(v.Report()[0].usage, 0);
  EXPECT_TRUE(v.Usage().empty());
}

// Every user always has work queued; each step the user with the highest factor (the first
// listed on a tie) gets the next job, of 1 to 4 units, and all usage decays. Returns the share
// of all units each user received.
std::vector<double> Simulate(FairShareTree& t, const std::vector<FairShareUser>& users, int steps) {
  constexpr TimeMs kStep = 60 * 1000;
  constexpr TimeMs kHalfLife = 200 * kStep;
  std::mt19937 rng(20240611);
  std::vector<double> got(users.size(), 0);
  double total = 0;
  for (int s = 0; s < steps; s++) {
    size_t best = 0;
    for (size_t i = 1; i < users.size(); i++) {
      if (t.Factor(users[i].account, users[i].user) >
          t.Factor(users[best].account, users[best].user)) {
        best = i;
      }
    }
    double units = 1 + rng() % 4;
    t.AddUsage(users[best].account, users[best].user, units);
    got[best] += units;
    total += units;
    t.Decay(kStep, kHalfLife);
  }
  for (double& g : got) g /= total;
  return got;
}

TEST(FairShare, UsageConvergesToSharesUnderLoad) {
  {
    std::vector<FairShareUser> users = {{"u1", "one", 1}, {"u2", "two", 1}, {"u3", "three", 1}};
    FairShareTree t = MustBuild({{"one", "", 1}, {"two", "", 2}, {"three", "", 3}}, users);
    auto got = Simulate(t, users, 20000);
    EXPECT_NEAR(got[0], 1.0 / 6, 0.005);
    EXPECT_NEAR(got[1], 2.0 / 6, 0.005);
    EXPECT_NEAR(got[2], 3.0 / 6, 0.005);
  }
  {
    // Nested: A and B split 1:1; within A, a1 and a2 split 1:3.
    std::vector<FairShareUser> users = {{"a1", "A", 1}, {"a2", "A", 3}, {"b1", "B", 1}};
    FairShareTree t = MustBuild({{"A", "", 1}, {"B", "", 1}}, users);
    auto got = Simulate(t, users, 20000);
    EXPECT_NEAR(got[0], 1.0 / 8, 0.005);
    EXPECT_NEAR(got[1], 3.0 / 8, 0.005);
    EXPECT_NEAR(got[2], 1.0 / 2, 0.005);
  }
}

}  // namespace
}  // namespace corral::sched
