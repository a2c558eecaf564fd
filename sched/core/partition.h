// Partitions, as an admin defines them (Slurm's PartitionName= lines): a set of nodes with
// limits, a priority tier and a preemption mode. A job runs in one partition, on its nodes only.
// With no partition defined the cluster is one implicit partition of every node. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/job.h"
#include "common/time.h"
#include "sched/core/backfill.h"
#include "sched/core/preempt_mode.h"

namespace corral::sched {

enum class PartitionState { kUp, kDown, kDrain };  // down: nothing starts; drain: no new jobs

struct Partition {
  std::string name;
  // Node names; each may hold '*' (any run of characters) and '?' (one); "ALL" is every node.
  std::vector<std::string> nodes;
  bool is_default = false;  // jobs without -p go here
  PartitionState state = PartitionState::kUp;
  TimeMs default_time_ms = -1;                   // DefaultTime for jobs without -t; -1: max_time_ms
  TimeMs max_time_ms = -1;                       // MaxTime; -1: unlimited
  int32_t max_nodes = -1;                        // MaxNodes per job; -1: unlimited
  std::vector<std::string> accounts;             // AllowAccounts; empty: every account
  int32_t priority_tier = 1;                     // PriorityTier: higher tiers are scheduled first
  PreemptMode preempt_mode = PreemptMode::kOff;  // how its jobs are preempted (preempt.h)
  TimeMs grace_ms = 0;                   // GraceTime: a preempted job gets SIGTERM, then this long
  std::optional<BackfillMode> backfill;  // unset: corrald's --backfill

  bool HasNode(const std::string& node) const;
  bool AllowsAccount(const std::string& account) const;
};

// Whether `name` matches `pattern` ('*' and '?' as above).
bool GlobMatch(const std::string& pattern, const std::string& name);
// Whether any of `patterns` (names, patterns or "ALL") matches `node`.
bool NodeListHas(const std::vector<std::string>& patterns, const std::string& node);
// An admin object's name (or, with `glob`, a node pattern): 1 to 64 letters, digits, '_', '-',
// '.' (and '*', '?').
bool ValidName(const std::string& name, bool glob);

// "" or what is wrong with `p`, naming the field ("max-time: must be ...").
std::string CheckPartition(const Partition& p);

// The partition a job without -p goes to: the one marked default, else the first; null when
// there is none.
const Partition* DefaultPartition(const std::vector<Partition>& parts);
const Partition* FindPartition(const std::vector<Partition>& parts, const std::string& name);
// The partitions a job may run in (-p a,b: Slurm's "the one that lets it start soonest"): the
// names of `list` in order, or the default one for ""; a name not defined gives a null entry.
std::vector<const Partition*> JobPartitions(const std::vector<Partition>& parts,
                                            const std::string& list);
// Of a job's partitions, the one of the highest priority tier (the first of equal tiers), or
// null when none is defined: what ranks the job and lets it preempt.
const Partition* TopPartition(const std::vector<Partition>& parts, const std::string& list);
// -p's names, split at commas (empty names dropped, duplicates kept once, in order).
std::vector<std::string> PartitionList(const std::string& list);

// Why a job cannot run in its partition now, as Slurm names it (PartitionDown,
// PartitionTimeLimit, PartitionNodeLimit, AccountNotAllowed), or "" when it can.
std::string PartitionBlocks(const Partition& p, const JobSpec& spec);

// Text forms for the admin commands and the config file, and their parsers (false: unknown).
const char* PartitionStateName(PartitionState s);
bool ParsePartitionState(const std::string& s, PartitionState* out);

}  // namespace corral::sched
