// `corral attach` and `corral forward` on a real cluster: a shell or a port inside a running job,
// carried over the node's own link to corrald (DESIGN.md "Fabric"). Exit codes, stdin, terminals,
// payloads many flow-control windows long both ways, the job's end, other users, ports the job
// does not own, hostile frames, and a client that never reads.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <thread>

#include "common/time.h"
#include "fabric/channel.h"
#include "fabric/tunnel_window.h"
#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

class Tunnel : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = LocalCluster::Start();
    ASSERT_TRUE(cluster_);
  }
  // A job running `wrap`, once it runs.
  std::string RunningJob(const std::string& wrap) {
    int64_t id = SubmitOk(*cluster_, "--wrap '" + wrap + "'");
    EXPECT_TRUE(WaitFor([&] { return QueueState(*cluster_, id) == "RUNNING"; }, 30000))
        << cluster_->Diagnose();
    return std::to_string(id);
  }
  std::string Corral() const { return BinDir() + "/corral"; }
  // A command left running in the background: its pid; its output goes to `out`.
  pid_t Background(const std::string& command, const std::string& out) {
    CmdResult r = cluster_->Shell(command + " > " + out + " 2>&1 & echo $!");
    return static_cast<pid_t>(std::atoi(FirstLine(r).c_str()));
  }
  std::unique_ptr<LocalCluster> cluster_;
};

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The local port `corral forward` printed in `file`, once it has.
int ForwardedPort(const LocalCluster& c, const std::string& file) {
  int port = 0;
  WaitFor(
      [&] {
        std::string s = c.ReadFile(file);
        size_t at = s.find("forwarding 127.0.0.1:");
        if (at == std::string::npos) return false;
        port = std::atoi(s.c_str() + at + 21);
        return port > 0;
      },
      30000);
  return port;
}

TEST_F(Tunnel, AttachRunsACommandInsideTheJobAndReturnsItsExitCode) {
  const std::string id = RunningJob("sleep 300");
  CmdResult r = cluster_->Corral("attach " + id +
                                 " --no-pty -- sh -c 'echo job=$CORRAL_JOB_ID; echo oops >&2; "
                                 "exit 7'");
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_NE(r.out.find("job=" + id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("oops"), std::string::npos) << r.out;  // stderr too, on the pipes
  // On the node it names; a node the job is not on is refused by name.
  auto job = QueueJob(*cluster_, std::stoll(id));
  ASSERT_FALSE(job.is_null());
  const std::string node = job["allocation"][0]["node"];
  r = cluster_->Corral("attach " + id + " --node " + node + " -- sh -c 'echo on-$CORRAL_NODENAME'");
  EXPECT_EQ(r.code, 0) << r.err;
  r = cluster_->Corral("attach " + id + " --node nosuch -- true");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("not allocated"), std::string::npos) << r.err;
  // Bad arguments are usage errors.
  EXPECT_EQ(cluster_->Corral("attach").code, 2);
  EXPECT_EQ(cluster_->Corral("attach x1").code, 2);
  EXPECT_EQ(cluster_->Corral("attach " + id + " --pty --no-pty").code, 2);
  r = cluster_->Corral("attach 999999 -- true");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("no such job"), std::string::npos) << r.err;
}

TEST_F(Tunnel, AttachFeedsStdinAndCarriesPayloadsOfManyWindowsBothWays) {
  const std::string id = RunningJob("sleep 300");
  CmdResult r = cluster_->Shell("printf 'echo hello-$CORRAL_JOB_ID\\nexit 3\\n' | " + Corral() +
                                " attach " + id);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.out.find("hello-" + id), std::string::npos) << r.out;
  // 3 MB in (twelve windows), counted on the node; 5 MB out.
  r = cluster_->Shell("head -c 3000000 /dev/urandom | " + Corral() + " attach " + id + " -- wc -c");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("3000000"), std::string::npos) << r.out;
  r = cluster_->Shell(Corral() + " attach " + id + " -- head -c 5000000 /dev/zero | wc -c");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("5000000"), std::string::npos) << r.out;
}

TEST_F(Tunnel, AttachGivesATerminalWhenAsked) {
  const std::string id = RunningJob("sleep 300");
  CmdResult r = cluster_->Corral("attach " + id +
                                 " --pty -- sh -c 'test -t 0 && test -t 1 && echo is-a-tty; "
                                 "tty; echo TERM=$TERM; exit 5'");
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.out.find("is-a-tty"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TERM="), std::string::npos) << r.out;
  // Without one, it is pipes.
  r = cluster_->Corral("attach " + id + " -- sh -c 'test -t 0 || echo no-tty'");
  EXPECT_NE(r.out.find("no-tty"), std::string::npos) << r.out;
}

TEST_F(Tunnel, AttachEndsWhenTheJobEnds) {
  const std::string id = RunningJob("sleep 300");
  CmdResult r;
  std::thread t([&] {
    r = cluster_->Shell("timeout 60 " + Corral() + " attach " + id + " --no-pty -- sleep 301");
  });
  EXPECT_TRUE(WaitFor([&] { return cluster_->Shell("pgrep -f '^sleep 301$'").code == 0; }, 20000));
  EXPECT_EQ(cluster_->Corral("cancel " + id).code, 0);
  t.join();
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, 124) << "attach outlived its job";
  EXPECT_TRUE(WaitFor([&] { return cluster_->Shell("pgrep -f '^sleep 301$'").code != 0; }, 10000));
}

TEST_F(Tunnel, AnotherUsersJobIsRefused) {
  const std::string id = RunningJob("sleep 300");
  CmdResult t = cluster_->Corral("admin token create --user mallory --role user");
  ASSERT_EQ(t.code, 0) << t.err;
  CmdResult r = cluster_->Shell("CORRAL_TOKEN='" + FirstLine(t) + "' " + Corral() + " attach " +
                                id + " -- true");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("belongs to another user"), std::string::npos) << r.err;
}

TEST_F(Tunnel, ForwardReachesAServerInsideTheJobAndCarriesMegabytes) {
  const std::string portfile = cluster_->dir() + "/echo.port";
  const std::string id = RunningJob(std::string(TUNNEL_ECHO) + " " + portfile);
  ASSERT_TRUE(WaitFor([&] { return !cluster_->ReadFile(portfile).empty(); }, 20000));
  const std::string remote = FirstLine(CmdResult{0, cluster_->ReadFile(portfile), ""});
  pid_t fwd =
      Background(Corral() + " forward " + id + " 0:" + remote, cluster_->dir() + "/fwd.out");
  ASSERT_GT(fwd, 0);
  int port = ForwardedPort(*cluster_, cluster_->dir() + "/fwd.out");
  ASSERT_GT(port, 0) << cluster_->ReadFile(cluster_->dir() + "/fwd.out");
  // 4 MiB of noise through the echo server and back, written while it is read.
  std::string sent(4 << 20, '\0');
  std::mt19937 rng(7);
  for (char& ch : sent) ch = static_cast<char>(rng());
  int fd = Connect(port);
  ASSERT_GE(fd, 0);
  std::thread writer([&] {
    for (size_t done = 0; done < sent.size();) {
      ssize_t n = write(fd, sent.data() + done, std::min<size_t>(sent.size() - done, 100000));
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  });
  // Meanwhile a second connection gets its answer: one busy tunnel does not hold up another.
  int small = Connect(port);
  ASSERT_GE(small, 0);
  ASSERT_EQ(write(small, "ping", 4), 4);
  char pong[4];
  size_t got_small = 0;
  while (got_small < 4) {
    ssize_t n = read(small, pong + got_small, 4 - got_small);
    if (n <= 0) break;
    got_small += static_cast<size_t>(n);
  }
  EXPECT_EQ(std::string(pong, got_small), "ping");
  close(small);
  std::string back;
  char buf[65536];
  while (back.size() < sent.size()) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    back.append(buf, static_cast<size_t>(n));
  }
  writer.join();
  close(fd);
  EXPECT_EQ(back.size(), sent.size());
  EXPECT_TRUE(back == sent) << "the bytes came back changed";
  kill(fwd, SIGTERM);
}

TEST_F(Tunnel, ForwardRefusesAPortTheJobDoesNotListenOn) {
  const std::string id = RunningJob("sleep 300");
  // This test's own listener on the node's host: not the job's, so out of reach.
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(ls, 4), 0);
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string theirs = std::to_string(ntohs(a.sin_port));
  const std::string out = cluster_->dir() + "/fwd.out";
  pid_t fwd = Background(Corral() + " forward " + id + " 0:" + theirs, out);
  int port = ForwardedPort(*cluster_, out);
  ASSERT_GT(port, 0) << cluster_->ReadFile(out);
  int fd = Connect(port);
  ASSERT_GE(fd, 0);
  char c;
  EXPECT_LE(read(fd, &c, 1), 0) << "the connection should be closed, not served";
  close(fd);
  EXPECT_TRUE(WaitFor(
      [&] { return cluster_->ReadFile(out).find("no process of job") != std::string::npos; },
      10000))
      << cluster_->ReadFile(out);
  kill(fwd, SIGTERM);
  close(ls);
  // Bad port specifications are usage errors, named.
  CmdResult r = cluster_->Corral("forward " + id + " 70000");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("remote port 70000"), std::string::npos) << r.err;
}

class RawTunnel {
 public:
  explicit RawTunnel(const std::string& address)
      : stub_(v1::Controller::NewStub(DialController(address))) {
    ctx_.set_deadline(DeadlineIn(60000));
    stream_ = stub_->Tunnel(&ctx_);
  }
  bool Write(const v1::TunnelFrame& f) { return stream_->Write(f); }
  bool Read(v1::TunnelFrame* f) { return stream_->Read(f); }
  // Reads until the stream ends: the error frame's text and the status (and the exit code).
  std::pair<std::string, grpc::Status> End(int* exit_code = nullptr) {
    std::string error;
    v1::TunnelFrame f;
    while (stream_->Read(&f)) {
      if (f.has_error()) error = f.error();
      if (f.has_exit_code() && exit_code) *exit_code = f.exit_code();
    }
    return {error, stream_->Finish()};
  }
  grpc::ClientContext& ctx() { return ctx_; }

 private:
  std::unique_ptr<v1::Controller::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::TunnelFrame, v1::TunnelFrame>> stream_;
};

TEST_F(Tunnel, HostileFramesAreRefusedByNameAndOthersAreServed) {
  const std::string id = RunningJob("sleep 300");
  {
    RawTunnel t(cluster_->Address());
    v1::TunnelFrame f;
    f.set_data("no open first");
    t.Write(f);
    auto [error, st] = t.End();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("must open"), std::string::npos) << st.error_message();
  }
  {
    RawTunnel t(cluster_->Address());
    v1::TunnelFrame f;
    f.mutable_open()->set_job_id(std::stoll(id));
    f.mutable_open()->set_port(0);
    t.Write(f);
    auto [error, st] = t.End();
    EXPECT_NE(st.error_message().find("open.port"), std::string::npos) << st.error_message();
  }
  {
    // A data frame larger than the window, sent without waiting for credit: cut.
    RawTunnel t(cluster_->Address());
    v1::TunnelFrame f;
    f.mutable_open()->set_job_id(std::stoll(id));
    f.mutable_open()->mutable_shell()->add_argv("cat");
    t.Write(f);
    v1::TunnelFrame big;
    big.set_data(std::string(kTunnelWindow + 1, 'x'));
    t.Write(big);
    auto [error, st] = t.End();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(st.error_message().find("flow-control window"), std::string::npos)
        << st.error_message();
  }
  {
    // Frames a client never sends after open.
    RawTunnel t(cluster_->Address());
    v1::TunnelFrame f;
    f.mutable_open()->set_job_id(std::stoll(id));
    f.mutable_open()->mutable_shell()->add_argv("cat");
    t.Write(f);
    v1::TunnelFrame again;
    again.set_exit_code(0);
    t.Write(again);
    auto [error, st] = t.End();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  // The cluster serves on.
  CmdResult r = cluster_->Corral("attach " + id + " -- echo still-here");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("still-here"), std::string::npos);
}

TEST_F(Tunnel, ATerminalTakesItsSizeAndFollowsAResize) {
  const std::string id = RunningJob("sleep 300");
  RawTunnel t(cluster_->Address());
  v1::TunnelFrame open;
  open.mutable_open()->set_job_id(std::stoll(id));
  auto* sh = open.mutable_open()->mutable_shell();
  sh->add_argv("sh");
  sh->set_pty(true);
  sh->mutable_size()->set_rows(30);
  sh->mutable_size()->set_cols(100);
  ASSERT_TRUE(t.Write(open));
  auto type = [&](const std::string& text) {
    v1::TunnelFrame d;
    d.set_data(text);
    return t.Write(d);
  };
  std::string out;
  int exit_code = -1;
  // Reads until `want` shows in the output (or the tunnel ends).
  auto until = [&](const std::string& want) {
    v1::TunnelFrame f;
    while (out.find(want) == std::string::npos && t.Read(&f)) {
      if (f.has_data()) out += f.data();
      if (f.has_exit_code()) exit_code = f.exit_code();
    }
    return out.find(want) != std::string::npos;
  };
  ASSERT_TRUE(type("stty size\n"));
  EXPECT_TRUE(until("30 100")) << out;
  v1::TunnelFrame resize;
  resize.mutable_resize()->set_rows(40);
  resize.mutable_resize()->set_cols(120);
  ASSERT_TRUE(t.Write(resize));
  ASSERT_TRUE(type("stty size; exit 4\n"));
  EXPECT_TRUE(until("40 120")) << out;
  auto [error, st] = t.End(&exit_code);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(exit_code, 4);
}

// corrald's resident memory, in KiB.
long ControllerRssKb(const LocalCluster& c) {
  std::string pid = FirstLine(CmdResult{0, c.ReadFile(c.dir() + "/cluster/corrald.pid"), ""});
  std::ifstream f("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

TEST_F(Tunnel, AClientThatNeverReadsHoldsOnlyItsWindow) {
  const std::string id = RunningJob("sleep 300");
  long before = ControllerRssKb(*cluster_);
  ASSERT_GT(before, 0);
  // `yes` writes as fast as it can; this client reads nothing for three seconds.
  RawTunnel t(cluster_->Address());
  v1::TunnelFrame f;
  f.mutable_open()->set_job_id(std::stoll(id));
  f.mutable_open()->mutable_shell()->add_argv("yes");
  t.Write(f);
  TimeMs until = MonotonicNowMs() + 3000;
  while (MonotonicNowMs() < until) {
    // Meanwhile the control traffic on the same node link goes on: a command runs there.
    CmdResult r = cluster_->Corral("attach " + id + " -- echo alive");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("alive"), std::string::npos);
  }
  long after = ControllerRssKb(*cluster_);
  EXPECT_LT(after - before, 64 * 1024) << "corrald grew from " << before << " to " << after
                                       << " KiB behind a client that does not read";
  t.ctx().TryCancel();
  t.End();
  // The abandoned shell is hung up on.
  EXPECT_TRUE(WaitFor([&] { return cluster_->Shell("pgrep -x yes").code != 0; }, 10000));
}

TEST_F(Tunnel, AnExecClientThatNeverReadsIsCutAndItsStepKilled) {
  const std::string id = RunningJob("sleep 300");
  long before = ControllerRssKb(*cluster_);
  ASSERT_GT(before, 0);
  auto stub = v1::Controller::NewStub(DialController(cluster_->Address()));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(60000));
  v1::ExecRequest req;
  req.set_job_id(std::stoll(id));
  auto job = QueueJob(*cluster_, std::stoll(id));
  ASSERT_FALSE(job.is_null());
  req.set_node(job["allocation"][0]["node"]);
  req.add_argv("yes");
  auto reader = stub->Exec(&ctx, req);
  // Nothing read for three seconds while `yes` writes as fast as it can.
  TimeMs until = MonotonicNowMs() + 3000;
  while (MonotonicNowMs() < until) {
    EXPECT_EQ(cluster_->Corral("queue").code, 0);  // corrald serves others meanwhile
  }
  long after = ControllerRssKb(*cluster_);
  EXPECT_LT(after - before, 96 * 1024) << "corrald grew from " << before << " to " << after
                                       << " KiB behind an Exec client that does not read";
  v1::ExecEvent ev;
  while (reader->Read(&ev)) {
  }
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_TRUE(WaitFor([&] { return cluster_->Shell("pgrep -x yes").code != 0; }, 10000))
      << "the step of a client that does not read should be killed";
}

}  // namespace
}  // namespace corral::testing
