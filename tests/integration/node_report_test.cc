// What a reconnecting node reports, applied by a real corrald: the ends it could not deliver,
// the jobs a restart of corral-node lost, and the launches that never reached it. A raw node
// stream stands in for the node, so that every case is exact: no timing decides the outcome.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "fabric/channel.h"
#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

using Stream = grpc::ClientReaderWriter<v1::NodeMessage, v1::ControllerMessage>;

// A node with far more memory than any node of the cluster: jobs that ask for --mem 4T can run
// only here.
constexpr const char* kBig = "--mem 4T";

class NodeReport : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = LocalCluster::Start();
    ASSERT_TRUE(cluster_);
    link_ = v1::NodeLink::NewStub(cluster_->NodeChannel("big"));
  }

  // One connection of the raw node "big": registers with `reg` filled in and reads the reply.
  struct Link {
    grpc::ClientContext ctx;
    std::unique_ptr<Stream> stream;
    v1::Registered registered;
  };
  std::unique_ptr<Link> Connect(const v1::NodeRegister& extra = {}) {
    auto l = std::make_unique<Link>();
    l->ctx.set_deadline(DeadlineIn(60000));
    l->stream = link_->Connect(&l->ctx);
    v1::NodeMessage m;
    *m.mutable_register_() = extra;
    auto* p = m.mutable_register_()->mutable_profile();
    p->set_name("big");
    p->set_cpus(4);
    p->set_mem_mib(int64_t{8} << 20);  // 8 TiB
    EXPECT_TRUE(l->stream->Write(m));
    v1::ControllerMessage in;
    // Launches sent again may come before the reply: they are kept for NextLaunch.
    while (l->stream->Read(&in)) {
      if (in.has_registered()) {
        l->registered = in.registered();
        return l;
      }
      if (in.has_launch()) early_.push_back(in.launch());
    }
    ADD_FAILURE() << "no Registered";
    return l;
  }
  // The next LaunchJob on `l` (skipping acknowledgements).
  v1::LaunchJob NextLaunch(Link& l) {
    if (!early_.empty()) {
      v1::LaunchJob j = early_.front();
      early_.erase(early_.begin());
      return j;
    }
    v1::ControllerMessage in;
    while (l.stream->Read(&in)) {
      if (in.has_launch()) return in.launch();
    }
    ADD_FAILURE() << "the stream ended before a launch";
    return {};
  }
  static void Drop(std::unique_ptr<Link>& l) {
    l->ctx.TryCancel();
    (void)l->stream->Finish();
    l.reset();
  }

  nlohmann::json Job(int64_t id) const {
    CmdResult r = cluster_->Corral("queue --json -a -j " + std::to_string(id));
    if (r.code != 0) return nullptr;
    nlohmann::json jobs = nlohmann::json::parse(r.out)["jobs"];
    return jobs.empty() ? nullptr : jobs[0];
  }
  bool StateIs(int64_t id, const std::string& st) const {
    nlohmann::json j = Job(id);
    return !j.is_null() && j["state"] == st;
  }

  static v1::JobFinished Finished(int64_t id, const std::string& state, int code, int restarts) {
    v1::JobFinished f;
    f.set_job_id(id);
    f.set_state(state);
    f.set_exit_code(code);
    f.set_restarts(restarts);
    return f;
  }

  // Submits a job (with `options`) that only "big" can hold, takes its launch, and reconnects
  // saying a restart of corral-node lost it.
  std::unique_ptr<Link> LaunchThenReconnectLosingIt(const std::string& options, int64_t* id) {
    auto l = Connect();
    *id = SubmitOk(*cluster_, std::string(kBig) + " " + options + " --wrap true");
    EXPECT_EQ(NextLaunch(*l).job().id(), *id);
    Drop(l);
    v1::NodeRegister reg;
    auto* lost = reg.add_lost();
    lost->set_job_id(*id);
    lost->set_reason("corral-node on big restarted while the job ran");
    return Connect(reg);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<v1::NodeLink::Stub> link_;
  std::vector<v1::LaunchJob> early_;
};

TEST_F(NodeReport, AnEndReportedAtRegistrationIsTheJobsOutcome) {
  auto l = Connect();
  int64_t id = SubmitOk(*cluster_, std::string(kBig) + " --wrap true");
  v1::LaunchJob launch = NextLaunch(*l);
  ASSERT_EQ(launch.job().id(), id);
  EXPECT_TRUE(launch.batch_host());
  EXPECT_EQ(launch.job().restarts(), 0);
  // The link drops; the job ends meanwhile; the node comes back with that end and without the
  // job among those it runs.
  Drop(l);
  v1::NodeRegister reg;
  *reg.add_finished() = Finished(id, "COMPLETED", 0, 0);
  l = Connect(reg);
  EXPECT_TRUE(l->registered.orphaned().empty());
  ASSERT_TRUE(WaitFor([&] { return StateIs(id, "COMPLETED"); }, 10000)) << Job(id).dump();
  EXPECT_EQ(Job(id)["exit_code"], 0);
  CmdResult acct = cluster_->Corral("acct --json -j " + std::to_string(id));
  nlohmann::json rows = nlohmann::json::parse(acct.out)["jobs"];
  ASSERT_EQ(rows.size(), 1u) << acct.out;
  EXPECT_EQ(rows[0]["state"], "COMPLETED");
}

TEST_F(NodeReport, ALaunchThatNeverArrivedIsSentAgain) {
  auto l = Connect();
  int64_t id = SubmitOk(*cluster_, std::string(kBig) + " --wrap true");
  ASSERT_EQ(NextLaunch(*l).job().id(), id);
  Drop(l);
  // The node never had it: a registration that names nothing.
  l = Connect();
  v1::LaunchJob again = NextLaunch(*l);
  EXPECT_EQ(again.job().id(), id);
  EXPECT_TRUE(again.batch_host());
  EXPECT_EQ(again.job().spec().script().find("true") != std::string::npos, true);
  EXPECT_TRUE(StateIs(id, "RUNNING"));
  // It runs now, and its end is taken.
  v1::NodeMessage m;
  *m.mutable_finished() = Finished(id, "FAILED", 3, 0);
  ASSERT_TRUE(l->stream->Write(m));
  ASSERT_TRUE(WaitFor([&] { return StateIs(id, "FAILED"); }, 10000)) << Job(id).dump();
  EXPECT_EQ(Job(id)["exit_code"], 3);
}

TEST_F(NodeReport, ALostJobIsRequeuedAndNewsOfItsEarlierRunIsIgnored) {
  int64_t id = 0;
  auto l = LaunchThenReconnectLosingIt("", &id);
  // Requeued, and started again here (the only node it fits), as run 1.
  v1::LaunchJob again = NextLaunch(*l);
  EXPECT_EQ(again.job().id(), id);
  EXPECT_EQ(again.job().restarts(), 1);
  // The earlier run's end is old news.
  v1::NodeMessage stale;
  *stale.mutable_finished() = Finished(id, "FAILED", 9, 0);
  ASSERT_TRUE(l->stream->Write(stale));
  v1::NodeMessage fresh;
  *fresh.mutable_finished() = Finished(id, "COMPLETED", 0, 1);
  ASSERT_TRUE(l->stream->Write(fresh));
  ASSERT_TRUE(WaitFor([&] { return StateIs(id, "COMPLETED"); }, 10000)) << Job(id).dump();
  EXPECT_EQ(Job(id)["exit_code"], 0);
  EXPECT_EQ(Job(id)["restarts"], 1);
  CmdResult acct = cluster_->Corral("acct --json -j " + std::to_string(id));
  EXPECT_EQ(nlohmann::json::parse(acct.out)["jobs"].size(), 1u) << acct.out;
}

TEST_F(NodeReport, ALostJobThatMayNotBeRequeuedEndsNodeFail) {
  int64_t id = 0;
  auto l = LaunchThenReconnectLosingIt("--no-requeue", &id);
  ASSERT_TRUE(WaitFor([&] { return StateIs(id, "NODE_FAIL"); }, 10000)) << Job(id).dump();
  EXPECT_EQ(Job(id)["reason"], "corral-node on big restarted while the job ran");
  EXPECT_EQ(Job(id)["requeue"], false);
}

// A node reports only for itself and for the runs it was given: reports about other nodes'
// jobs, unknown jobs, earlier runs or nonsense states change nothing that is stored.
TEST_F(NodeReport, HostileReportsChangeNothing) {
  int64_t elsewhere = SubmitOk(*cluster_, "--wrap 'sleep 300'");  // a real node's job
  ASSERT_TRUE(WaitFor([&] { return StateIs(elsewhere, "RUNNING"); }, 10000));
  int64_t done = SubmitOk(*cluster_, "--wrap true");
  ASSERT_EQ(cluster_->Corral("wait -q --timeout 30 " + std::to_string(done)).code, 0);
  auto l = Connect();
  int64_t mine = SubmitOk(*cluster_, std::string(kBig) + " --wrap 'sleep 300'");
  ASSERT_EQ(NextLaunch(*l).job().id(), mine);
  Drop(l);
  v1::NodeRegister reg;
  reg.add_running()->set_job_id(mine);
  *reg.add_finished() = Finished(elsewhere, "COMPLETED", 0, 0);
  *reg.add_finished() = Finished(done, "FAILED", 7, 0);
  *reg.add_finished() = Finished(999999, "COMPLETED", 0, 0);
  *reg.add_finished() = Finished(mine, "COMPLETED", 0, 5);  // a run that never was
  reg.add_lost()->set_job_id(elsewhere);
  reg.add_lost()->set_job_id(-1);
  auto* wrong_run = reg.add_lost();
  wrong_run->set_job_id(mine);
  wrong_run->set_restarts(3);
  l = Connect(reg);
  EXPECT_TRUE(l->registered.orphaned().empty());
  // A finish with a state that is no end at all counts as FAILED, never as success.
  v1::NodeMessage odd;
  *odd.mutable_finished() = Finished(mine, "RUNNING", 0, 0);
  ASSERT_TRUE(l->stream->Write(odd));
  ASSERT_TRUE(WaitFor([&] { return StateIs(mine, "FAILED"); }, 10000)) << Job(mine).dump();
  EXPECT_TRUE(StateIs(elsewhere, "RUNNING")) << Job(elsewhere).dump();
  EXPECT_TRUE(StateIs(done, "COMPLETED")) << Job(done).dump();
  EXPECT_EQ(Job(done)["exit_code"], 0);
  EXPECT_EQ(cluster_->Corral("cancel " + std::to_string(elsewhere)).code, 0);
}

}  // namespace
}  // namespace corral::testing
