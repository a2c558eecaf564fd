// corral-rsh: Open MPI's plm_rsh_agent for Corral. mpirun calls it like ssh:
//   corral-rsh [ssh options] HOST COMMAND...
// It asks corrald to start COMMAND (through /bin/sh -c, as sshd would) on HOST, inside the job
// named by $CORRAL_JOB_ID, relays its output, and exits with its exit code. A restart of corrald
// meanwhile does not end it: it follows the step on the next controller.
#include <unistd.h>

#include <iostream>
#include <string>

#include "fabric/channel.h"
#include "fabric/exec_client.h"

using namespace corral;

int main(int argc, char** argv) {
  int i = 1;
  // Skip ssh-style options (mpirun may pass some through plm_rsh_args).
  while (i < argc && argv[i][0] == '-') {
    std::string o = argv[i++];
    if ((o == "-p" || o == "-l" || o == "-o" || o == "-i") && i < argc) ++i;
  }
  if (argc - i < 2) {
    std::cerr << "usage: corral-rsh HOST COMMAND...\n";
    return 255;
  }
  std::string host = argv[i++];
  std::string command;
  for (; i < argc; ++i) command += (command.empty() ? "" : " ") + std::string(argv[i]);
  const char* ctl = getenv("CORRAL_CONTROLLER");
  const char* job = getenv("CORRAL_JOB_ID");
  if (!ctl || !job) {
    std::cerr << "corral-rsh: CORRAL_CONTROLLER and CORRAL_JOB_ID must be set (run inside a "
                 "Corral job)\n";
    return 255;
  }
  char* end = nullptr;
  long long job_id = strtoll(job, &end, 10);
  if (*end != '\0' || job_id <= 0) {
    std::cerr << "corral-rsh: CORRAL_JOB_ID=" << job << " is not a job id\n";
    return 255;
  }
  auto creds = CredentialsFromEnv();
  if (!creds.ok()) {
    std::cerr << "corral-rsh: " << creds.status().message() << "\n";
    return 255;
  }
  v1::ExecRequest req;
  req.set_job_id(job_id);
  req.set_node(host);
  req.add_argv("/bin/sh");
  req.add_argv("-c");
  req.add_argv(command);
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd)) req.set_cwd(cwd);
  // Followed across a restart of corrald: mpirun must not lose its daemon meanwhile.
  ExecOutcome r = RunExec(
      ctl, *creds, req, [](const std::string& d) { std::cout << d << std::flush; },
      [](const std::string& d) { std::cerr << d << std::flush; });
  if (!r.error.empty()) {
    std::cerr << "corral-rsh: " << host << ": " << r.error << "\n";
    return 255;
  }
  return r.exit_code;
}
