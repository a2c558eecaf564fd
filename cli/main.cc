// corral: the command-line interface. See `corral --help`.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "cli/client.h"
#include "cli/commands.h"

namespace {

constexpr const char* kHelp = R"(corral: submit and watch batch jobs on a Corral cluster.

Usage: corral COMMAND [OPTIONS]   (corral COMMAND --help for its options)

Commands:
  submit   submit a batch script (like sbatch); --wrap "CMD" for a one-liner; --array
  run      run a command on newly allocated nodes, once per task (like srun)
  queue    list pending and running jobs (like squeue)
  cancel   cancel jobs (like scancel)
  release  release held jobs (submitted with --hold)
  requeue  put running jobs back in the queue (like scontrol requeue)
  wait     block until jobs end; exits with the job's exit code
  attach   a shell (or a command) inside a running job, on one of its nodes
  forward  forward a local port to a port of a running job (Jupyter, TensorBoard, Ray)
  nodes    list nodes (like sinfo -N)
  acct     show finished jobs from accounting (like sacct)
  up       start a local cluster in the background (corrald + simulated nodes)
  down     stop a cluster started with `up`
  share    fair share: your accounts' shares, usage and priority factor (like sshare)
  sim      replay a workload trace (SWF) through the scheduler: waits, slowdown, utilization
  admin    what admins manage: qos, node, partition, reservation, account, user, token
           (like sacctmgr and scontrol): `corral admin OBJECT add|modify|remove|list`

The Slurm names sbatch, srun, squeue, scancel, sinfo and sacct (symlinks in bin/slurm-shims;
put that folder on PATH to use them) run submit, run, queue, cancel, nodes and acct.

The controller is taken from --controller, else $CORRAL_CONTROLLER, else 127.0.0.1:6817:
HOST:PORT over TLS, checked against the cluster CA in $CORRAL_CA, with the token in
$CORRAL_TOKEN (`corral admin token create`); or unix:STATE-DIR/corrald.sock on the
controller's machine, where your uid is who you are. Listings take --json.

Exit codes:
  0  success
  1  the command failed (wait: a job ended CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED or
     OUT_OF_MEMORY with exit code 0)
  2  bad options or arguments
  3  the controller could not be reached
  4  the controller refused the request (invalid job, unknown id, bad credentials, ...)
  N  wait: the job's own exit code; 124 when --timeout passed
)";

// Flushes and leaves without running destructors: tearing gRPC down (its threads, the channel)
// took ~5 ms, more than the command itself. Nothing is left to persist by then.
[[noreturn]] void Exit(int code) {
  std::cout.flush();
  std::cerr.flush();
  fflush(nullptr);
  _exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  using Cmd = int (*)(const corral::cli::Args&);
  const std::map<std::string, Cmd> cmds = {
      {"submit", corral::cli::Submit},   {"queue", corral::cli::Queue},
      {"cancel", corral::cli::Cancel},   {"wait", corral::cli::Wait},
      {"nodes", corral::cli::Nodes},     {"acct", corral::cli::Acct},
      {"up", corral::cli::Up},           {"run", corral::cli::Run},
      {"release", corral::cli::Release}, {"down", corral::cli::Down},
      {"admin", corral::cli::Admin},     {"requeue", corral::cli::Requeue},
      {"share", corral::cli::Share},     {"sim", corral::cli::Sim},
      {"attach", corral::cli::Attach},   {"forward", corral::cli::Forward},
  };
  // Slurm names: `sbatch job.sh` is `corral submit job.sh`, and so on (symlinks in bin/).
  const std::map<std::string, std::string> shims = {{"sbatch", "submit"},  {"squeue", "queue"},
                                                    {"scancel", "cancel"}, {"sinfo", "nodes"},
                                                    {"sacct", "acct"},     {"srun", "run"}};
  std::string self = argv[0];
  self = self.substr(self.find_last_of('/') + 1);
  if (auto s = shims.find(self); s != shims.end()) {
    Exit(cmds.at(s->second)(corral::cli::Args(argv + 1, argv + argc)));
  }
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    std::cout << kHelp;
    return argc < 2 ? corral::cli::kExitUsage : 0;
  }
  if (std::string(argv[1]) == "--version") {
    std::cout << "corral 0.1\n";
    return 0;
  }
  auto it = cmds.find(argv[1]);
  if (it == cmds.end()) {
    std::cerr << "corral: unknown command \"" << argv[1] << "\"; see corral --help\n";
    return corral::cli::kExitUsage;
  }
  Exit(it->second(corral::cli::Args(argv + 2, argv + argc)));
}
