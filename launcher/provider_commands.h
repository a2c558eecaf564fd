// What a provider runs to see its machine as the cluster sees it, and to take it back:
//   corral-node status [--controller A] [--name N] [--json]
//   corral-node remove [--controller A] [--name N] [--reason R] [--timeout S] [--state-dir D]
//   corral-node rename [--controller A] [--name N] LABEL
// status prints the node's state, GPU check (tier, figures, when), jobs and any admin hold;
// remove drains the node (running jobs finish, no new ones start), waits until none is left, then
// stops the node's corral-node (the pid it keeps in its state directory) and says how to bring
// the node back; rename sets the node's display name (its name, in its certificate, stays). Exit
// codes: 0 done, 1 not done (unknown node, timeout), 2 usage, 3 no controller, 4 refused.
#pragma once

#include <string>

namespace corral {

// The pid file a running corral-node keeps in its state directory.
std::string AgentPidFile(const std::string& state_dir);

// argv[1] is "status", "remove" or "rename". `default_state_dir(name)` gives the state directory a
// corral-node of that name uses by default.
int ProviderCommand(int argc, char** argv, std::string (*default_state_dir)(const std::string&));

}  // namespace corral
