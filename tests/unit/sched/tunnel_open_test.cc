// What a client's first Tunnel frame may ask for (sched/ctld/tunnel_stream.h CheckTunnelOpen).
#include <gtest/gtest.h>

#include "sched/ctld/tunnel_stream.h"

namespace corral::ctld {
namespace {

v1::TunnelFrame Shell() {
  v1::TunnelFrame f;
  f.mutable_open()->set_job_id(7);
  f.mutable_open()->mutable_shell()->set_pty(true);
  return f;
}

TEST(TunnelOpen, TakesAShellAPortOrAStepsStdin) {
  EXPECT_TRUE(CheckTunnelOpen(Shell()).ok());
  v1::TunnelFrame p;
  p.mutable_open()->set_job_id(7);
  p.mutable_open()->set_port(8888);
  EXPECT_TRUE(CheckTunnelOpen(p).ok());
  v1::TunnelFrame c = Shell();
  c.mutable_open()->mutable_shell()->add_argv("python3");
  c.mutable_open()->mutable_shell()->set_term("xterm-256color");
  c.mutable_open()->mutable_shell()->mutable_size()->set_rows(50);
  EXPECT_TRUE(CheckTunnelOpen(c).ok());
  v1::TunnelFrame in;
  in.mutable_open()->set_job_id(7);
  in.mutable_open()->set_step_stdin(12);
  EXPECT_TRUE(CheckTunnelOpen(in).ok());
}

TEST(TunnelOpen, RefusesHostileFramesNamingTheField) {
  auto says = [](const v1::TunnelFrame& f, const std::string& field) {
    Status s = CheckTunnelOpen(f);
    EXPECT_FALSE(s.ok()) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  };
  v1::TunnelFrame data;
  data.set_data("hello");
  says(data, "the first frame must open");
  v1::TunnelFrame f = Shell();
  f.mutable_open()->set_job_id(0);
  says(f, "open.job_id");
  f = Shell();
  f.mutable_open()->set_job_id(-5);
  says(f, "open.job_id");
  v1::TunnelFrame none;
  none.mutable_open()->set_job_id(3);
  says(none, "neither a shell, a port nor a step's stdin");
  for (int port : {0, -1, 65536, 1 << 30}) {
    v1::TunnelFrame p;
    p.mutable_open()->set_job_id(3);
    p.mutable_open()->set_port(port);
    says(p, "open.port");
  }
  for (int64_t step : {0L, -3L}) {
    v1::TunnelFrame in;
    in.mutable_open()->set_job_id(3);
    in.mutable_open()->set_step_stdin(step);
    says(in, "open.step_stdin");
  }
  f = Shell();
  f.mutable_open()->set_node(std::string(300, 'n'));
  says(f, "open.node");
  f = Shell();
  for (int i = 0; i < 300; ++i) f.mutable_open()->mutable_shell()->add_argv("x");
  says(f, "open.shell.argv");
  f = Shell();
  f.mutable_open()->mutable_shell()->add_argv(std::string(70 << 10, 'a'));
  says(f, "open.shell.argv");
  f = Shell();
  f.mutable_open()->mutable_shell()->add_argv("");
  says(f, "open.shell.argv");
  f = Shell();
  f.mutable_open()->mutable_shell()->set_term("xterm\n; rm -rf /");
  says(f, "open.shell.term");
  f = Shell();
  f.mutable_open()->mutable_shell()->set_term(std::string(100, 'x'));
  says(f, "open.shell.term");
  f = Shell();
  f.mutable_open()->mutable_shell()->mutable_size()->set_cols(4000000000u);
  says(f, "open.shell.size");
}

}  // namespace
}  // namespace corral::ctld
