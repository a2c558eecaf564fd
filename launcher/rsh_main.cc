// corral-rsh: Open MPI's plm_rsh_agent for Corral. mpirun calls it like ssh:
//   corral-rsh [ssh options] HOST COMMAND...
// It asks corrald to start COMMAND (through /bin/sh -c, as sshd would) on HOST, inside the job
// named by $CORRAL_JOB_ID, relays its output, and exits with its exit code.
#include <unistd.h>

#include <iostream>
#include <string>

#include "fabric/channel.h"

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
  auto stub = v1::Controller::NewStub(DialController(ctl));
  grpc::ClientContext ctx;
  v1::ExecRequest req;
  req.set_job_id(job_id);
  req.set_node(host);
  req.add_argv("/bin/sh");
  req.add_argv("-c");
  req.add_argv(command);
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd)) req.set_cwd(cwd);
  auto reader = stub->Exec(&ctx, req);
  v1::ExecEvent ev;
  int code = 255;
  while (reader->Read(&ev)) {
    if (ev.has_stdout()) {
      std::cout << ev.stdout() << std::flush;
    } else if (ev.has_stderr()) {
      std::cerr << ev.stderr() << std::flush;
    } else if (ev.has_exit_code()) {
      code = ev.exit_code();
    } else if (ev.has_error()) {
      std::cerr << "corral-rsh: " << host << ": " << ev.error() << "\n";
      code = 255;
    }
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) {
    std::cerr << "corral-rsh: " << host << ": " << FromGrpc(st, ctl).message() << "\n";
    return 255;
  }
  return code;
}
