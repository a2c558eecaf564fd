// Every RPC handler of corrald, fed hostile input: a clear error naming the field, and the
// controller keeps serving with nothing lost.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "fabric/channel.h"
#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

class RpcHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = LocalCluster::Start();
    ASSERT_TRUE(cluster_);
    address_ = cluster_->Address();
    channel_ = DialController(address_);
    stub_ = v1::Controller::NewStub(channel_);
  }

  v1::JobSpec Good() {
    v1::JobSpec s;
    s.set_name("ok");
    s.set_nodes(1);
    s.set_ntasks(1);
    s.set_cpus_per_task(1);
    s.set_script("#!/bin/sh\ntrue\n");
    s.set_workdir("/tmp");
    // As the CLI does. A job that names no user runs as corral-node's --job-user (nobody).
    if (passwd* pw = getpwuid(getuid())) s.set_user(pw->pw_name);
    return s;
  }

  grpc::Status Submit(const std::vector<v1::JobSpec>& specs, v1::SubmitReply* rep = nullptr) {
    v1::SubmitRequest req;
    for (const auto& s : specs) *req.add_jobs() = s;
    v1::SubmitReply ignored;
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(10000));
    return stub_->Submit(&ctx, req, rep ? rep : &ignored);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Controller::Stub> stub_;
};

struct BadSpec {
  const char* what;
  std::function<void(v1::JobSpec*)> mutate;
  const char* error_contains;
};

TEST_F(RpcHostile, SubmitRejectsBadSpecsNamingTheField) {
  const BadSpec cases[] = {
      {"zero nodes", [](v1::JobSpec* s) { s->set_nodes(0); }, "--nodes"},
      {"negative tasks", [](v1::JobSpec* s) { s->set_ntasks(-3); }, "--ntasks"},
      {"zero cpus", [](v1::JobSpec* s) { s->set_cpus_per_task(0); }, "--cpus-per-task"},
      {"negative memory", [](v1::JobSpec* s) { s->set_mem_mib(-1); }, "--mem"},
      {"negative gpus", [](v1::JobSpec* s) { s->set_gpus(-2); }, "negative"},
      {"huge gpus", [](v1::JobSpec* s) { s->set_gpus(2000000000); }, "the largest node has"},
      {"share over a GPU", [](v1::JobSpec* s) { s->set_gpus(1), s->set_gpu_milli(1000); },
       "a share of a GPU must be 0.001 to 0.999"},
      {"negative share", [](v1::JobSpec* s) { s->set_gpus(1), s->set_gpu_milli(-7); },
       "a share of a GPU must be 0.001 to 0.999"},
      {"share of two GPUs", [](v1::JobSpec* s) { s->set_gpus(2), s->set_gpu_milli(500); },
       "a share of a GPU is of one GPU on one node"},
      {"share without GPUs", [](v1::JobSpec* s) { s->set_gpu_milli(500); },
       "a share of a GPU is of one GPU on one node"},
      {"empty script", [](v1::JobSpec* s) { s->clear_script(); }, "script"},
      {"relative workdir", [](v1::JobSpec* s) { s->set_workdir("rel"); }, "--chdir"},
      {"negative time", [](v1::JobSpec* s) { s->set_time_limit_ms(-5); }, "--time"},
      {"long name", [](v1::JobSpec* s) { s->set_name(std::string(5000, 'x')); }, "--job-name"},
      {"binary name", [](v1::JobSpec* s) { s->set_name(std::string("a\0b\n", 4)); }, "--job-name"},
      {"negative array index", [](v1::JobSpec* s) { s->add_array_indices(-1); }, "--array"},
      {"negative array throttle",
       [](v1::JobSpec* s) {
         s->add_array_indices(1);
         s->set_array_throttle(-2);
       },
       "--array"},
      {"several partitions, one empty name", [](v1::JobSpec* s) { s->set_partition(",,"); },
       "--partition"},
  };
  for (const auto& c : cases) {
    v1::JobSpec s = Good();
    c.mutate(&s);
    grpc::Status st = Submit({s});
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what;
    EXPECT_NE(st.error_message().find(c.error_contains), std::string::npos)
        << c.what << ": " << st.error_message();
  }
  EXPECT_EQ(Submit({}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RpcHostile, OneBadJobRejectsTheWholeRequestAndStoresNothing) {
  v1::JobSpec bad = Good();
  bad.set_nodes(-1);
  grpc::Status st = Submit({Good(), bad});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("job 1"), std::string::npos) << st.error_message();
  v1::ListJobsRequest req;
  req.set_include_finished(true);
  v1::ListJobsReply rep;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->ListJobs(&ctx, req, &rep).ok());
  EXPECT_TRUE(rep.info_stream().empty());
}

// An array sent by the API rather than the CLI: unsorted, repeated indices and fields only the
// controller sets. It gets one id per distinct index, in ascending order of index.
TEST_F(RpcHostile, AnArrayOfUnsortedRepeatedIndicesIsTakenAsItsDistinctIndices) {
  v1::JobSpec s = Good();
  for (int i : {9, 3, 9, 7, 3}) s.add_array_indices(i);
  s.set_hold(true);
  s.set_array_job_id(777);  // ignored: the controller sets it
  s.set_array_task_id(5);
  v1::SubmitReply rep;
  ASSERT_TRUE(Submit({s}, &rep).ok());
  ASSERT_EQ(rep.ids_size(), 1);
  const int64_t first = rep.ids(0);
  CmdResult q = cluster_->Corral("queue --json -r -j " + std::to_string(first));
  ASSERT_EQ(q.code, 0) << q.err;
  const nlohmann::json jobs = nlohmann::json::parse(q.out)["jobs"];
  ASSERT_EQ(jobs.size(), 3u) << q.out;
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(jobs[k]["job_id"], first + k);
    EXPECT_EQ(jobs[k]["array_job_id"], first);
    EXPECT_EQ(jobs[k]["array_task_id"], (std::vector<int>{3, 7, 9})[k]);
  }
  // The next job's id follows the array's three.
  v1::SubmitReply next;
  ASSERT_TRUE(Submit({Good()}, &next).ok());
  EXPECT_EQ(next.ids(0), first + 3);
  // Listing with expansion of ids that are no array, or past every job: nothing, no error.
  v1::ListJobsRequest req;
  req.set_expand_arrays(true);
  req.add_ids(first + 1000);
  req.add_ids(-4);
  v1::ListJobsReply listed;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->ListJobs(&ctx, req, &listed).ok());
  EXPECT_TRUE(listed.info_stream().empty());
}

// Equal neighbours in one request share a stored payload; each job still runs its own.
TEST_F(RpcHostile, ARequestMixingEqualAndDifferentPayloadsRunsEachJobsOwn) {
  auto job = [&](const std::string& word, const std::string& out, const std::string& env) {
    v1::JobSpec s = Good();
    s.set_script("#!/bin/sh\necho " + word + " $WHO\n");
    s.set_workdir(cluster_->dir());
    s.set_output(out);
    auto* e = s.add_env();
    e->set_key("WHO");
    e->set_value(env);
    return s;
  };
  std::vector<v1::JobSpec> specs = {job("a", "1.out", "x"), job("a", "2.out", "x"),
                                    job("a", "3.out", "y"), job("b", "4.out", "y"),
                                    job("a", "5.out", "x")};
  v1::SubmitReply rep;
  ASSERT_TRUE(Submit(specs, &rep).ok());
  ASSERT_EQ(rep.ids_size(), 5);
  std::string ids;
  for (int64_t id : rep.ids()) ids += " " + std::to_string(id);
  ASSERT_EQ(cluster_->Corral("wait -q --timeout 60" + ids).code, 0);
  EXPECT_EQ(cluster_->ReadFile("1.out"), "a x\n");
  EXPECT_EQ(cluster_->ReadFile("2.out"), "a x\n");
  EXPECT_EQ(cluster_->ReadFile("3.out"), "a y\n");
  EXPECT_EQ(cluster_->ReadFile("4.out"), "b y\n");
  EXPECT_EQ(cluster_->ReadFile("5.out"), "a x\n");
}

TEST_F(RpcHostile, WaitCancelAndExecOnUnknownJobs) {
  {
    v1::WaitRequest req;
    req.add_ids(424242);
    v1::WaitReply rep;
    grpc::ClientContext ctx;
    grpc::Status st = stub_->Wait(&ctx, req, &rep);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(st.error_message().find("424242"), std::string::npos);
  }
  {
    v1::WaitRequest req;
    v1::WaitReply rep;
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->Wait(&ctx, req, &rep).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    v1::CancelRequest req;
    req.add_ids(-7);
    v1::CancelReply rep;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Cancel(&ctx, req, &rep).ok());
    ASSERT_EQ(rep.errors_size(), 1);
    EXPECT_NE(rep.errors(0).find("no such job"), std::string::npos);
  }
  {
    v1::ExecRequest req;
    req.set_job_id(99);
    req.set_node("cpu1");
    req.add_argv("true");
    grpc::ClientContext ctx;
    auto r = stub_->Exec(&ctx, req);
    v1::ExecEvent ev;
    EXPECT_FALSE(r->Read(&ev));
    EXPECT_EQ(r->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::ExecRequest req;
    grpc::ClientContext ctx;
    auto r = stub_->Exec(&ctx, req);
    v1::ExecEvent ev;
    EXPECT_FALSE(r->Read(&ev));
    EXPECT_EQ(r->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(RpcHostile, NodeLinkRefusesStreamsThatDoNotRegisterProperly) {
  auto ghost = v1::NodeLink::NewStub(cluster_->NodeChannel("ghost"));
  auto attempt = [&](const v1::NodeMessage& first, v1::NodeLink::Stub* link = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(10000));
    auto s = (link ? link : ghost.get())->Connect(&ctx);
    s->Write(first);
    s->WritesDone();
    v1::ControllerMessage m;
    while (s->Read(&m)) {
    }
    return s->Finish();
  };
  v1::NodeMessage hb;
  hb.mutable_heartbeat()->set_now_ms(1);
  grpc::Status st = attempt(hb);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("registration"), std::string::npos);
  v1::NodeMessage noname;
  noname.mutable_register_()->mutable_profile()->set_cpus(4);
  st = attempt(noname);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("name"), std::string::npos);
  v1::NodeMessage nocpu;
  nocpu.mutable_register_()->mutable_profile()->set_name("ghost");
  st = attempt(nocpu);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("CPUs"), std::string::npos);
  // A node may be only itself: ghost's certificate does not register cpu1 (a real node, whose
  // jobs and scripts it would be sent).
  v1::NodeMessage other;
  other.mutable_register_()->mutable_profile()->set_name("cpu1");
  other.mutable_register_()->mutable_profile()->set_cpus(4);
  st = attempt(other);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_NE(st.error_message().find("ghost"), std::string::npos) << st.error_message();
  // An admin's token is not a node's certificate; and nothing at all is not either.
  auto admin = v1::NodeLink::NewStub(channel_);
  v1::NodeMessage reg = other;
  reg.mutable_register_()->mutable_profile()->set_name("ghost");
  st = attempt(reg, admin.get());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  Credentials ca_only;
  ca_only.ca_pem = cluster_->ReadFile(cluster_->Env("CORRAL_CA"));
  auto anon = v1::NodeLink::NewStub(DialController(address_, ca_only));
  st = attempt(reg, anon.get());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  // cpu1 is still up.
  CmdResult nodes = cluster_->Corral("nodes --json");
  ASSERT_EQ(nodes.code, 0) << nodes.err;
  const nlohmann::json parsed = nlohmann::json::parse(nodes.out);
  for (const auto& n : parsed["nodes"]) {
    if (n["name"] == "cpu1") {
      EXPECT_EQ(n["state"], "idle");
    }
  }
}

// Node streams that vanish at every point of their life: before a word, right after
// registering, and after messages that mean nothing. Each ends cleanly, a node that had
// registered is marked down, and the controller goes on running jobs on the real nodes.
TEST_F(RpcHostile, NodeLinkSurvivesStreamsThatVanishAtAnyPoint) {
  const int kEach = 15;
  // One certificate for the ghosts: a fleet, as corral-node --simulate attaches.
  auto link = v1::NodeLink::NewStub(cluster_->NodeChannel("ghost-", kEach + 1));
  auto reg = [](const std::string& name) {
    v1::NodeMessage m;
    auto* p = m.mutable_register_()->mutable_profile();
    p->set_name(name);
    p->set_cpus(1);
    p->set_mem_mib(64);
    return m;
  };
  for (int i = 0; i < kEach; ++i) {
    grpc::ClientContext ctx;
    auto s = link->Connect(&ctx);
    ctx.TryCancel();
    EXPECT_FALSE(s->Finish().ok());
  }
  for (int i = 0; i < kEach; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(10000));
    auto s = link->Connect(&ctx);
    ASSERT_TRUE(s->Write(reg("ghost-" + std::to_string(i + 1))));
    v1::ControllerMessage m;
    ASSERT_TRUE(s->Read(&m));
    EXPECT_TRUE(m.has_registered()) << i;
    ctx.TryCancel();
    s->Finish();
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(10000));
    auto s = link->Connect(&ctx);
    ASSERT_TRUE(s->Write(reg("ghost-" + std::to_string(kEach + 1))));
    v1::ControllerMessage m;
    ASSERT_TRUE(s->Read(&m));
    EXPECT_TRUE(m.has_registered());
    v1::NodeMessage again = reg("someone-else");
    v1::NodeMessage out;
    out.mutable_step_output()->set_step_id(999);
    out.mutable_step_output()->set_stdout("nobody asked");
    v1::NodeMessage fin;
    fin.mutable_finished()->set_job_id(123456);
    fin.mutable_finished()->set_state("COMPLETED");
    for (const auto* msg : {&again, &out, &fin}) EXPECT_TRUE(s->Write(*msg));
    // The finished report is acknowledged even for a job the node never ran; nothing else is.
    ASSERT_TRUE(s->Read(&m));
    EXPECT_EQ(m.ack_finished().job_id(), 123456) << m.DebugString();
    s->WritesDone();
    while (s->Read(&m)) {
    }
    EXPECT_TRUE(s->Finish().ok());
  }
  // Every ghost is down once its stream has gone.
  auto ghosts_down = [&] {
    CmdResult r = cluster_->Corral("nodes --json");
    if (r.code != 0) return false;
    nlohmann::json parsed = nlohmann::json::parse(r.out);
    int down = 0;
    for (const auto& n : parsed["nodes"]) {
      std::string name = n["name"];
      if (name.rfind("ghost-", 0) == 0) down += n["state"] == "down" ? 1 : 0;
      if (name == "someone-else") return false;
    }
    return down == kEach + 1;
  };
  EXPECT_TRUE(WaitFor(ghosts_down, 15000)) << cluster_->Corral("nodes").out;
  v1::SubmitReply rep;
  ASSERT_TRUE(Submit({Good()}, &rep).ok());
  CmdResult w = cluster_->Corral("wait -q --timeout 60 " + std::to_string(rep.ids(0)));
  EXPECT_EQ(w.code, 0) << w.err;
}

// Exec clients that leave at once, mid-output, or ask for the wrong node: each step they
// started is killed, and a well-behaved Exec on the same job still gets all of its output.
TEST_F(RpcHostile, ExecClientsThatLeaveEarlyLeaveNoStepsBehind) {
  v1::JobSpec job = Good();
  job.set_script("#!/bin/sh\nsleep 300\n");
  v1::SubmitReply rep;
  ASSERT_TRUE(Submit({job}, &rep).ok());
  int64_t id = rep.ids(0);
  std::string node;
  ASSERT_TRUE(WaitFor(
      [&] {
        CmdResult q = cluster_->Corral("queue --json -j " + std::to_string(id));
        if (q.code != 0) return false;
        nlohmann::json parsed = nlohmann::json::parse(q.out);
        if (parsed["jobs"].empty() || parsed["jobs"][0]["state"] != "RUNNING") return false;
        node = parsed["jobs"][0]["nodelist"];
        return true;
      },
      30000))
      << cluster_->Diagnose();
  auto exec = [&](const std::string& on, std::vector<std::string> argv) {
    v1::ExecRequest req;
    req.set_job_id(id);
    req.set_node(on);
    for (auto& a : argv) req.add_argv(a);
    return req;
  };
  // A marker no other process has, to count the steps still alive.
  const std::string marker = "600.123456";  // outlives the WaitFor below
  // [p]: the pattern does not match the shell that runs pgrep.
  auto alive = [&] { return cluster_->Shell("pgrep -f 'slee[p] " + marker + "' | wc -l").out; };
  for (int i = 0; i < 10; ++i) {
    grpc::ClientContext ctx;
    auto r = stub_->Exec(&ctx, exec(node, {"sh", "-c", "echo up; sleep " + marker}));
    if (i % 2 == 1) {
      v1::ExecEvent ev;
      EXPECT_TRUE(r->Read(&ev)) << "step " << i;  // "up": the step runs
    }
    ctx.TryCancel();
    EXPECT_FALSE(r->Finish().ok()) << "step " << i;
  }
  {
    grpc::ClientContext ctx;
    auto r = stub_->Exec(&ctx, exec(node + "-not", {"true"}));
    v1::ExecEvent ev;
    EXPECT_FALSE(r->Read(&ev));
    EXPECT_EQ(r->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_TRUE(WaitFor([&] { return alive() == "0\n"; }, 20000)) << alive() << " steps left\n"
                                                                << cluster_->Diagnose();
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(60000));
  auto r = stub_->Exec(&ctx, exec(node, {"sh", "-c", "seq 1 2000; exit 3"}));
  v1::ExecEvent ev;
  std::string out;
  int exit_code = -1;
  while (r->Read(&ev)) {
    out += ev.stdout();
    if (ev.has_exit_code()) exit_code = ev.exit_code();
  }
  grpc::Status st = r->Finish();
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(exit_code, 3);
  std::string want;
  for (int i = 1; i <= 2000; ++i) want += std::to_string(i) + "\n";
  EXPECT_EQ(out, want);
  ASSERT_EQ(cluster_->Corral("cancel " + std::to_string(id)).code, 0);
}

// Many waits at once hold no controller thread each; a wait answers at its timeout, and one
// whose client gives up first leaves nothing behind.
TEST_F(RpcHostile, ManyWaitsHoldNoThreadAndEachGetsItsAnswer) {
  v1::JobSpec job = Good();
  job.set_hold(true);
  v1::SubmitReply rep;
  ASSERT_TRUE(Submit({job}, &rep).ok());
  int64_t id = rep.ids(0);
  auto wait = [&](int64_t timeout_ms, int64_t client_ms, v1::WaitReply* out) {
    v1::WaitRequest req;
    req.add_ids(id);
    req.set_timeout_ms(timeout_ms);
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(client_ms));
    return stub_->Wait(&ctx, req, out);
  };
  // At its timeout: not done, and the job is listed as it stands.
  v1::WaitReply r;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait(300, 10000, &r).ok());
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(r.all_done());
  ASSERT_EQ(r.jobs_size(), 1);
  EXPECT_EQ(r.jobs(0).state(), "PENDING");
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::milliseconds(5000));
  // Clients that give up before the controller answers.
  for (int i = 0; i < 20; ++i) {
    v1::WaitReply ignored;
    EXPECT_EQ(wait(60000, 50, &ignored).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  // 150 waits at once, then the job runs: every one is answered, done.
  std::string pid_text = cluster_->ReadFile(cluster_->dir() + "/cluster/corrald.pid");
  std::string tasks = "/proc/" + std::to_string(atoi(pid_text.c_str())) + "/task";
  auto threads = [&] {
    return std::distance(std::filesystem::directory_iterator(tasks),
                         std::filesystem::directory_iterator());
  };
  const int kWaits = 150;
  std::atomic<int> started{0}, done{0}, ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kWaits; ++i) {
    clients.emplace_back([&] {
      v1::WaitReply mine;
      ++started;
      if (wait(60000, 60000, &mine).ok() && mine.all_done()) ++ok;
      ++done;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return started.load() == kWaits; }, 10000));
  // One more wait on the same connection, answered at its timeout: by then corrald has read
  // the calls sent before it. It must not have grown a thread per call.
  ASSERT_TRUE(wait(300, 10000, &r).ok());
  EXPECT_EQ(done.load(), 0);
  EXPECT_LT(threads(), 60) << "corrald threads with " << kWaits << " waits open";
  ASSERT_EQ(cluster_->Corral("release " + std::to_string(id)).code, 0);
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kWaits);
}

TEST_F(RpcHostile, ReleaseAndCompleteRefuseWhatTheyCannotDo) {
  {
    v1::ReleaseRequest req;
    v1::ReleaseReply rep;
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->Release(&ctx, req, &rep).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    v1::ReleaseRequest req;
    req.add_ids(777);
    v1::ReleaseReply rep;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Release(&ctx, req, &rep).ok());
    ASSERT_EQ(rep.errors_size(), 1);
    EXPECT_NE(rep.errors(0).find("777"), std::string::npos);
  }
  v1::SubmitReply sub;
  ASSERT_TRUE(Submit({Good()}, &sub).ok());
  {
    v1::CompleteRequest req;
    req.set_job_id(sub.ids(0));
    v1::CompleteReply rep;
    grpc::ClientContext ctx;
    grpc::Status st = stub_->Complete(&ctx, req, &rep);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(st.error_message().find("batch job"), std::string::npos) << st.error_message();
  }
  {
    v1::CompleteRequest req;
    req.set_job_id(-5);
    v1::CompleteReply rep;
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->Complete(&ctx, req, &rep).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::ListJobsRequest req;
    req.add_ids(-1);
    req.add_ids(1LL << 60);
    req.set_brief(true);
    v1::ListJobsReply rep;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ListJobs(&ctx, req, &rep).ok());
    EXPECT_TRUE(rep.brief_stream().empty());
    EXPECT_TRUE(rep.info_stream().empty());
  }
}

TEST_F(RpcHostile, ControllerStillServesAfterAllOfIt) {
  v1::JobSpec bad = Good();
  bad.set_script(std::string(5 << 20, '#'));
  EXPECT_EQ(Submit({bad}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::SubmitReply rep;
  ASSERT_TRUE(Submit({Good()}, &rep).ok());
  ASSERT_EQ(rep.ids_size(), 1);
  CmdResult w = cluster_->Corral("wait -q --timeout 60 " + std::to_string(rep.ids(0)));
  EXPECT_EQ(w.code, 0) << w.err;
}

}  // namespace
}  // namespace corral::testing
