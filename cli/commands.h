// The subcommands of `corral`. Each takes the arguments after its name and returns the
// process exit code (cli/client.h ExitCode).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace corral::cli {

using Args = std::vector<std::string>;

int Submit(const Args& args);
int Queue(const Args& args);
// corral queue --explain JOBID (cli/explain.cc).
int QueueExplain(int64_t job_id, const std::string& controller, bool json);
int Cancel(const Args& args);
int Nodes(const Args& args);
int Acct(const Args& args);
int Wait(const Args& args);
int Release(const Args& args);
int Requeue(const Args& args);
int Run(const Args& args);
// corral attach / forward (tunnel.cc): a shell, or a local port, into a running job.
int Attach(const Args& args);
int Forward(const Args& args);
int Up(const Args& args);
int Down(const Args& args);
int Admin(const Args& args);
// corral admin partition / reservation (admin_partition.cc, admin_reservation.cc).
int AdminPartition(const Args& args);
int AdminNode(const Args& args);
int AdminToken(const Args& args);
int AdminReservation(const Args& args);
// corral admin account / user (admin_account.cc).
int AdminAccount(const Args& args, bool is_user);
// corral share (share.cc).
int Share(const Args& args);
// corral sim (sim.cc): replay a workload trace through the scheduler.
int Sim(const Args& args);

}  // namespace corral::cli
