#include "sched/core/fairshare.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "sched/core/priority.h"

namespace corral::sched {
namespace {

bool ValidName(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

// "" if `name` is a valid name, else what is wrong with it.
std::string NameProblem(const std::string& name) {
  if (name.empty()) return "empty";
  if (!ValidName(name)) return "\"" + name + "\": only letters, digits, '_', '-' and '.'";
  return "";
}

std::string SharesProblem(int64_t shares) {
  if (shares >= 0 && shares <= FairShareTree::kMaxShares) return "";
  return "must be 0 to " + std::to_string(FairShareTree::kMaxShares) + " (got " +
         std::to_string(shares) + ")";
}

std::string UserLabel(const std::string& user, const std::string& account) {
  return "user " + user + " (account " + account + ")";
}

int64_t Fixed(long double part, long double whole) {
  if (whole <= 0) return 0;
  return std::clamp<int64_t>(std::llround(part / whole * kOne), 0, kOne);
}

}  // namespace

Result<FairShareTree> FairShareTree::Build(std::vector<FairShareAccount> accounts,
                                           std::vector<FairShareUser> users) {
  std::map<std::string, size_t> by_name;  // account -> index in `accounts`
  for (size_t i = 0; i < accounts.size(); i++) {
    const FairShareAccount& a = accounts[i];
    if (std::string p = NameProblem(a.name); !p.empty()) {
      return Status::Invalid("accounts[" + std::to_string(i) + "]: name: " + p);
    }
    if (a.name == kRoot) {
      return Status::Invalid(std::string("account ") + kRoot +
                             ": name: reserved for the tree's root (an account with parent \"\" "
                             "is under it)");
    }
    if (!by_name.emplace(a.name, i).second) {
      return Status::Invalid("account " + a.name + ": defined twice");
    }
    if (std::string p = SharesProblem(a.shares); !p.empty()) {
      return Status::Invalid("account " + a.name + ": shares: " + p);
    }
  }
  for (const FairShareAccount& a : accounts) {
    if (!a.parent.empty() && !by_name.count(a.parent)) {
      return Status::Invalid("account " + a.name + ": parent \"" + a.parent +
                             "\": no such account");
    }
  }
  // Cycles: walk up from each account; 0 = unvisited, 1 = on the current walk, 2 = reaches root.
  std::vector<int> state(accounts.size(), 0);
  for (size_t start = 0; start < accounts.size(); start++) {
    std::vector<size_t> walk;
    size_t i = start;
    while (state[i] == 0) {
      state[i] = 1;
      walk.push_back(i);
      if (accounts[i].parent.empty()) break;
      i = by_name.at(accounts[i].parent);
    }
    if (state[i] == 1 && !accounts[i].parent.empty()) {
      std::string cycle = accounts[i].name;
      auto at = std::find(walk.begin(), walk.end(), i);
      for (auto it = at + 1; it != walk.end(); ++it) cycle += " -> " + accounts[*it].name;
      cycle += " -> " + accounts[i].name;
      return Status::Invalid("account " + accounts[i].name + ": parent cycle " + cycle);
    }
    for (size_t w : walk) state[w] = 2;
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < users.size(); i++) {
    const FairShareUser& u = users[i];
    if (std::string p = NameProblem(u.user); !p.empty()) {
      return Status::Invalid("users[" + std::to_string(i) + "]: user: " + p);
    }
    if (u.account.empty()) return Status::Invalid("user " + u.user + ": account: empty");
    if (!by_name.count(u.account)) {
      return Status::Invalid("user " + u.user + ": account \"" + u.account + "\": no such account");
    }
    if (!seen.emplace(u.account, u.user).second) {
      return Status::Invalid(UserLabel(u.user, u.account) + ": defined twice");
    }
    if (std::string p = SharesProblem(u.shares); !p.empty()) {
      return Status::Invalid(UserLabel(u.user, u.account) + ": shares: " + p);
    }
  }

  // Children of each account (and of the root, ""), by name.
  std::map<std::string, std::vector<std::string>> sub_accounts;
  std::map<std::string, std::vector<size_t>> account_users;
  for (const FairShareAccount& a : accounts) sub_accounts[a.parent].push_back(a.name);
  for (auto& [parent, names] : sub_accounts) std::sort(names.begin(), names.end());
  for (size_t i = 0; i < users.size(); i++) account_users[users[i].account].push_back(i);
  for (auto& [account, list] : account_users) {
    std::sort(list.begin(), list.end(),
              [&](size_t x, size_t y) { return users[x].user < users[y].user; });
  }

  // Breadth first, so that a parent precedes its children.
  FairShareTree t;
  t.nodes_.push_back(Node{});
  t.index_[{"", ""}] = 0;
  for (size_t at = 0; at < t.nodes_.size(); at++) {
    if (!t.nodes_[at].user.empty()) continue;
    const std::string account = t.nodes_[at].account;
    for (size_t u : account_users[account]) {
      Node n;
      n.account = account;
      n.user = users[u].user;
      n.parent = static_cast<int>(at);
      n.shares = users[u].shares;
      int id = static_cast<int>(t.nodes_.size());
      t.nodes_[at].users.push_back(id);
      t.index_[{n.account, n.user}] = id;
      t.nodes_.push_back(std::move(n));
      t.user_count_++;
    }
    for (const std::string& name : sub_accounts[account]) {
      Node n;
      n.account = name;
      n.parent = static_cast<int>(at);
      n.shares = accounts[by_name.at(name)].shares;
      int id = static_cast<int>(t.nodes_.size());
      t.nodes_[at].accounts.push_back(id);
      t.index_[{n.account, ""}] = id;
      t.nodes_.push_back(std::move(n));
    }
  }
  return t;
}

int FairShareTree::Find(const std::string& account, const std::string& user) const {
  auto it = index_.find({account, user});
  return it == index_.end() ? -1 : it->second;
}

bool FairShareTree::Has(const std::string& account, const std::string& user) const {
  return !account.empty() && !user.empty() && Find(account, user) >= 0;
}

int FairShareTree::ChargeTarget(const std::string& account, const std::string& user) const {
  if (account.empty()) return 0;
  if (int id = user.empty() ? -1 : Find(account, user); id >= 0) return id;
  if (int id = Find(account, ""); id >= 0) return id;
  return 0;
}

void FairShareTree::AddUsage(const std::string& account, const std::string& user, double usage) {
  if (!(usage > 0) || !std::isfinite(usage)) return;
  nodes_[ChargeTarget(account, user)].own += usage;
  ranked_ = false;
}

void FairShareTree::Decay(TimeMs elapsed_ms, TimeMs half_life_ms) {
  if (elapsed_ms <= 0 || half_life_ms <= 0) return;
  double f = std::exp2(-static_cast<double>(elapsed_ms) / static_cast<double>(half_life_ms));
  for (Node& n : nodes_) n.own *= f;
  ranked_ = false;
}

void FairShareTree::Rank() const {
  if (ranked_) return;
  ranked_ = true;
  for (Node& n : nodes_) n.usage = n.own;
  for (size_t i = nodes_.size(); i-- > 1;) nodes_[nodes_[i].parent].usage += nodes_[i].usage;

  const long double inf = std::numeric_limits<long double>::infinity();
  Node& root = nodes_[0];
  root.norm_shares = kOne;
  root.effective_usage = root.usage > 0 ? kOne : 0;
  root.level_fs = root.usage > 0 ? 1.0L : inf;
  for (const Node& p : nodes_) {
    if (!p.user.empty()) continue;
    int64_t sum = 0;
    for (int c : p.users) sum += nodes_[c].shares;
    for (int c : p.accounts) sum += nodes_[c].shares;
    auto level = [&](Node& n) {
      n.norm_shares = Fixed(n.shares, sum);
      n.effective_usage = Fixed(n.usage, p.usage);
      // One division of exact-as-possible products, so that equal ratios compare equal.
      if (n.shares == 0) {
        n.level_fs = 0;
      } else if (n.usage <= 0) {
        n.level_fs = inf;
      } else {
        n.level_fs = (static_cast<long double>(n.shares) * p.usage) /
                     (static_cast<long double>(sum) * n.usage);
      }
    };
    for (int c : p.users) level(nodes_[c]);
    for (int c : p.accounts) level(nodes_[c]);
  }

  // Slurm's _calc_tree_fs, with an explicit stack. Ranks count down from the number of users;
  // `unique` is the rank the next user gets unless tied with the one before.
  auto sorted = [&](std::vector<int> ids) {
    std::sort(ids.begin(), ids.end(), [&](int x, int y) {
      const Node& a = nodes_[x];
      const Node& b = nodes_[y];
      if (a.level_fs != b.level_fs) return a.level_fs > b.level_fs;
      bool au = !a.user.empty(), bu = !b.user.empty();
      if (au != bu) return au;  // users before accounts: a tie then carries into the account
      return std::tie(a.user, a.account) < std::tie(b.user, b.account);
    });
    return ids;
  };
  auto children = [&](int id) {
    std::vector<int> c = nodes_[id].users;
    c.insert(c.end(), nodes_[id].accounts.begin(), nodes_[id].accounts.end());
    return c;
  };
  struct Frame {
    std::vector<int> ids;
    size_t next = 0;
    bool tied_in = false;  // the first one is tied with the user ranked before
    bool has_prev = false;
    long double prev = 0;
  };
  int64_t rank = user_count_, unique = user_count_;
  std::vector<Frame> stack;
  stack.push_back(Frame{sorted(children(0))});
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.ids.size()) {
      stack.pop_back();
      continue;
    }
    size_t i = f.next;
    Node& n = nodes_[f.ids[i]];
    bool tied = (i == 0 && f.tied_in) || (f.has_prev && f.prev == n.level_fs);
    f.has_prev = true;
    f.prev = n.level_fs;
    if (!n.user.empty()) {
      if (!tied) rank = unique;
      n.factor = user_count_ > 0 ? rank * kOne / user_count_ : 0;
      unique--;
      f.next++;
      continue;
    }
    // Sibling accounts with the same LF: their children are ranked together.
    std::vector<int> merged;
    size_t j = i;
    while (j < f.ids.size() && nodes_[f.ids[j]].user.empty() &&
           nodes_[f.ids[j]].level_fs == n.level_fs) {
      std::vector<int> c = children(f.ids[j]);
      merged.insert(merged.end(), c.begin(), c.end());
      j++;
    }
    f.next = j;
    Frame sub{sorted(std::move(merged))};
    sub.tied_in = tied;
    stack.push_back(std::move(sub));  // `f` is invalid from here on
  }
}

int64_t FairShareTree::Factor(const std::string& account, const std::string& user) const {
  if (!Has(account, user)) return 0;
  Rank();
  return nodes_[Find(account, user)].factor;
}

std::vector<FairShareTree::Row> FairShareTree::Report() const {
  Rank();
  std::vector<Row> rows;
  std::vector<std::pair<int, int>> stack = {{0, 0}};  // (node, depth)
  while (!stack.empty()) {
    auto [id, depth] = stack.back();
    stack.pop_back();
    const Node& n = nodes_[id];
    Row r;
    r.depth = depth;
    r.account = id == 0 ? kRoot : n.account;
    r.user = n.user;
    r.shares = id == 0 ? 1 : n.shares;
    r.norm_shares = n.norm_shares;
    r.usage = n.usage;
    r.effective_usage = n.effective_usage;
    r.level_fs = static_cast<double>(n.level_fs);
    r.factor = n.user.empty() ? 0 : n.factor;
    rows.push_back(std::move(r));
    // Pushed in reverse, so that users come out first, then sub-accounts, each by name.
    for (auto it = n.accounts.rbegin(); it != n.accounts.rend(); ++it) {
      stack.push_back({*it, depth + 1});
    }
    for (auto it = n.users.rbegin(); it != n.users.rend(); ++it) stack.push_back({*it, depth + 1});
  }
  return rows;
}

std::vector<FairShareUsage> FairShareTree::Usage() const {
  std::vector<FairShareUsage> out;
  std::vector<int> stack = {0};
  while (!stack.empty()) {
    int id = stack.back();
    stack.pop_back();
    const Node& n = nodes_[id];
    if (n.own > 0) out.push_back({n.account, n.user, n.own});
    for (auto it = n.accounts.rbegin(); it != n.accounts.rend(); ++it) stack.push_back(*it);
    for (auto it = n.users.rbegin(); it != n.users.rend(); ++it) stack.push_back(*it);
  }
  return out;
}

Status FairShareTree::RestoreUsage(const std::vector<FairShareUsage>& usage) {
  for (size_t i = 0; i < usage.size(); i++) {
    const FairShareUsage& u = usage[i];
    if (!(u.usage >= 0) || !std::isfinite(u.usage)) {
      return Status::Invalid("usage[" + std::to_string(i) + "] (account \"" + u.account +
                             "\", user \"" + u.user + "\"): usage: must be a finite number >= 0");
    }
  }
  for (Node& n : nodes_) n.own = 0;
  for (const FairShareUsage& u : usage) nodes_[ChargeTarget(u.account, u.user)].own += u.usage;
  ranked_ = false;
  return Status::Ok();
}

}  // namespace corral::sched
