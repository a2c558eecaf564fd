// Who may do what, on a real corrald (DESIGN.md "Security"): the port speaks TLS 1.3 with the
// cluster's certificate; a wrong, missing, revoked or expired token gets one refusal; users act
// on their own jobs only, operators on nodes and others' jobs, admins on everything; join tokens
// are spent; a node's certificate is its own, and a forgotten or foreign one is refused.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "common/files.h"
#include "common/subprocess.h"
#include "fabric/channel.h"
#include "fabric/nebula.h"
#include "fabric/pki.h"
#include "fabric/tls_probe.h"
#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

class Access : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = LocalCluster::Start();
    ASSERT_TRUE(cluster_);
  }
  // A new token's secret, made by the admin of the env.
  std::string Token(const std::string& args) {
    CmdResult r = cluster_->Corral("admin token create " + args);
    EXPECT_EQ(r.code, 0) << r.err;
    return FirstLine(r);
  }
  // `corral ARGS` with CORRAL_TOKEN=token.
  CmdResult As(const std::string& token, const std::string& args) {
    return cluster_->Shell("CORRAL_TOKEN='" + token + "' " + BinDir() + "/corral " + args);
  }
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(Access, ThePortSpeaksTls13WithTheClustersCertificate) {
  auto peer = ProbeTls(cluster_->Address(), 5000);
  ASSERT_TRUE(peer.ok()) << peer.status().message();
  EXPECT_EQ(peer->version, "TLSv1.3");
  // A client that offers nothing newer than TLS 1.2 gets no handshake.
  auto old = ProbeTls(cluster_->Address(), 5000, /*tls12_only=*/true);
  EXPECT_FALSE(old.ok()) << "TLS 1.2 was accepted: " << (old.ok() ? old->version : "");
  ASSERT_EQ(peer->chain.size(), 2u);
  const std::string ca = cluster_->ReadFile(cluster_->Env("CORRAL_CA"));
  EXPECT_TRUE(pki::VerifySignedBy(ca, peer->chain[0]).ok());
  EXPECT_EQ(pki::Inspect(peer->chain[1])->fingerprint, pki::Inspect(ca)->fingerprint);
  // The join token pins that CA.
  const std::string join = cluster_->Env("CORRAL_JOIN_TOKEN");
  EXPECT_EQ(join.substr(join.rfind('.') + 1), pki::Inspect(ca)->fingerprint);
  // A client that trusts another CA does not get through.
  auto other = pki::NewCa("another", 1);
  ASSERT_TRUE(other.ok());
  Credentials wrong;
  wrong.ca_pem = other->cert_pem;
  wrong.token = cluster_->Env("CORRAL_TOKEN");
  auto stub = v1::Controller::NewStub(DialController(cluster_->Address(), wrong));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(5000));
  v1::ListNodesReply rep;
  EXPECT_EQ(stub->ListNodes(&ctx, v1::ListNodesRequest(), &rep).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(Access, BadTokensGetOneRefusalAndTheServerServesOthers) {
  const std::string revoked = Token("--user alice --role user");
  const std::string id = revoked.substr(4, 12);
  ASSERT_EQ(cluster_->Corral("admin token revoke " + id).code, 0);
  const std::string good = cluster_->Env("CORRAL_TOKEN");
  std::string first;
  for (const std::string& bad :
       {std::string("ct1.000000000000.0000"), revoked, good.substr(0, good.size() - 1) + "x",
        std::string("garbage"), std::string("")}) {
    CmdResult r = As(bad, "queue");
    EXPECT_EQ(r.code, 4) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("not authenticated"), std::string::npos) << r.err;
    if (!bad.empty()) {
      if (first.empty()) first = r.err;
      EXPECT_EQ(r.err, first) << "a refusal must not tell one bad token from another";
    }
  }
  EXPECT_NE(cluster_->ReadFile(cluster_->dir() + "/cluster/log/corrald.log")
                .find("the revoked token " + id),
            std::string::npos);
  // A token that expires: valid, then refused once its time is up.
  const std::string brief = Token("--user bob --ttl 2s");
  EXPECT_EQ(As(brief, "queue").code, 0);
  EXPECT_TRUE(WaitFor([&] { return As(brief, "queue").code == 4; }, 10000));
  EXPECT_EQ(cluster_->Corral("queue").code, 0);
}

TEST_F(Access, UsersActOnTheirOwnJobsOperatorsOnOthersAdminsOnEverything) {
  const std::string alice = Token("--user alice");
  const std::string bob = Token("--user bob");
  const std::string op = Token("--user olga --role operator");
  // Whatever user the CLI claims, the job is the token's.
  CmdResult s = As(alice, "submit --parsable --hold --wrap true");
  ASSERT_EQ(s.code, 0) << s.err;
  const int64_t job = std::stoll(FirstLine(s));
  EXPECT_EQ(QueueJob(*cluster_, job)["user"], "alice");
  const int64_t mine = SubmitOk(*cluster_, "--hold --wrap true");
  // bob neither sees alice's job nor cancels or releases it.
  CmdResult q = As(bob, "queue --json -a");
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_EQ(nlohmann::json::parse(q.out)["jobs"].size(), 0u) << q.out;
  CmdResult c = As(bob, "cancel " + std::to_string(job));
  EXPECT_NE(c.code, 0);
  EXPECT_NE(c.err.find("belongs to another user"), std::string::npos) << c.err;
  EXPECT_NE(As(bob, "release " + std::to_string(job)).code, 0);
  EXPECT_EQ(QueueState(*cluster_, job), "PENDING");
  // Nor may a user change the cluster.
  CmdResult d = As(bob, "admin node drain cpu1 --reason mine");
  EXPECT_EQ(d.code, 4);
  EXPECT_NE(d.err.find("only an operator or an admin"), std::string::npos) << d.err;
  EXPECT_EQ(As(bob, "admin token create --user bob --role admin").code, 4);
  EXPECT_EQ(As(bob, "admin qos add big --priority 10").code, 4);
  EXPECT_EQ(As(bob, "admin qos list").code, 0);  // reading is for everyone
  // alice sees hers, and not the admin's.
  q = As(alice, "queue --json -a");
  ASSERT_EQ(q.code, 0);
  const nlohmann::json hers = nlohmann::json::parse(q.out)["jobs"];
  ASSERT_EQ(hers.size(), 1u) << q.out;
  EXPECT_EQ(hers[0]["job_id"], job);
  // The operator drains nodes and cancels others' jobs, but makes no tokens.
  EXPECT_EQ(As(op, "admin node drain cpu1 --reason maintenance").code, 0);
  EXPECT_EQ(As(op, "admin node resume cpu1").code, 0);
  EXPECT_EQ(As(op, "admin token create --user x").code, 4);
  EXPECT_EQ(As(op, "cancel " + std::to_string(job)).code, 0);
  EXPECT_EQ(QueueState(*cluster_, job), "CANCELLED");
  EXPECT_EQ(cluster_->Corral("cancel " + std::to_string(mine)).code, 0);
}

TEST_F(Access, JoinTokensAreSpentAndANodeIsOnlyItself) {
  const std::string once = Token("--role join --uses 1");
  Credentials n1 = cluster_->AttachAs("extra1", 0, "", once);
  ASSERT_FALSE(n1.cert_pem.empty());
  // Spent: a second attach with it is refused, whatever the name.
  Credentials plain;
  plain.ca_pem = n1.ca_pem;
  auto stub = v1::NodeLink::NewStub(DialController(cluster_->Address(), plain));
  auto attach = [&](const std::string& token, const std::string& name) {
    auto key = pki::NewKey();
    v1::AttachRequest req;
    req.set_join_token(token);
    req.set_csr_pem(*pki::NewCsr(*key, name));
    req.set_name(name);
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(5000));
    v1::AttachReply rep;
    return stub->Attach(&ctx, req, &rep);
  };
  EXPECT_EQ(attach(once, "extra2").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(attach("cj1.0.0.0", "extra2").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A name that is attached already keeps its key.
  const std::string many = Token("--role join --uses 5");
  grpc::Status taken = attach(many, "extra1");
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::ALREADY_EXISTS) << taken.error_message();
  // A certificate of another CA does not get past the handshake.
  auto other = pki::NewCa("forger", 1);
  pki::Leaf leaf;
  leaf.common_name = "cpu1";
  leaf.uri = "corral:node:cpu1";
  auto forged = pki::IssueNew(*other, leaf);
  ASSERT_TRUE(forged.ok());
  Credentials f = n1;
  f.key_pem = forged->key_pem;
  f.cert_pem = forged->cert_pem;
  auto link = v1::NodeLink::NewStub(DialController(cluster_->Address(), f));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(5000));
  auto s = link->Connect(&ctx);
  v1::NodeMessage reg;
  reg.mutable_register_()->mutable_profile()->set_name("cpu1");
  reg.mutable_register_()->mutable_profile()->set_cpus(1);
  s->Write(reg);
  v1::ControllerMessage m;
  EXPECT_FALSE(s->Read(&m));
  EXPECT_FALSE(s->Finish().ok());
  // Forgotten: the stream it has open ends, and its certificate stops working.
  auto mine = v1::NodeLink::NewStub(DialController(cluster_->Address(), n1));
  grpc::ClientContext live_ctx;
  live_ctx.set_deadline(DeadlineIn(20000));
  auto live = mine->Connect(&live_ctx);
  v1::NodeMessage live_reg;
  live_reg.mutable_register_()->mutable_profile()->set_name("extra1");
  live_reg.mutable_register_()->mutable_profile()->set_cpus(1);
  live_reg.mutable_register_()->mutable_profile()->set_mem_mib(64);
  ASSERT_TRUE(live->Write(live_reg));
  ASSERT_TRUE(live->Read(&m));
  ASSERT_TRUE(m.has_registered());
  ASSERT_EQ(cluster_->Corral("admin node forget extra1").code, 0);
  while (live->Read(&m)) {
  }
  grpc::Status ended = live->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
  grpc::ClientContext ctx2;
  ctx2.set_deadline(DeadlineIn(5000));
  auto s2 = mine->Connect(&ctx2);
  reg.mutable_register_()->mutable_profile()->set_name("extra1");
  s2->Write(reg);
  EXPECT_FALSE(s2->Read(&m));
  EXPECT_EQ(s2->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // And the name may attach again, with a new key.
  EXPECT_TRUE(attach(many, "extra1").ok());
}

// A job has a token of its own, its user's, good while it runs; the submitter's token is not
// copied into its environment.
TEST_F(Access, AJobsTokenWorksInsideItAndEndsWithIt) {
  const std::string d = cluster_->dir();
  const int64_t id =
      SubmitOk(*cluster_, "--wrap 'echo $CORRAL_JOB_TOKEN > " + d +
                              "/job.token; env | grep -c ^CORRAL_TOKEN= > " + d +
                              "/leaked; corral queue -j $CORRAL_JOB_ID > " + d + "/inside.txt'");
  ASSERT_EQ(cluster_->Corral("wait -q --timeout 60 " + std::to_string(id)).code, 0)
      << cluster_->ReadFile(d + "/inside.txt");
  EXPECT_NE(cluster_->ReadFile(d + "/inside.txt").find(std::to_string(id)), std::string::npos);
  EXPECT_EQ(cluster_->ReadFile(d + "/leaked"), "0\n");
  std::string tok = cluster_->ReadFile(d + "/job.token");
  tok = tok.substr(0, tok.find('\n'));
  ASSERT_EQ(tok.rfind("cjob1.", 0), 0u) << tok;
  CmdResult after = As(tok, "queue");
  EXPECT_EQ(after.code, 4) << after.err;
  EXPECT_NE(cluster_->ReadFile(d + "/cluster/log/corrald.log").find("which has ended"),
            std::string::npos);
}

// An oversized request is refused before it is read whole; plain-text and garbage bytes on the
// TLS port get nowhere; the controller serves the next caller.
TEST_F(Access, OversizedAndGarbageRequestsAreRefusedAndServiceGoesOn) {
  auto stub = v1::Controller::NewStub(DialController(cluster_->Address()));
  v1::SubmitRequest big;
  v1::JobSpec* j = big.add_jobs();
  j->set_script("#!/bin/sh\n" + std::string(65 << 20, '#'));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(30000));
  v1::SubmitReply rep;
  EXPECT_EQ(stub->Submit(&ctx, big, &rep).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::SubmitRequest many;
  for (int i = 0; i < 10001; ++i) many.add_jobs()->set_name("x");
  grpc::ClientContext ctx2;
  ctx2.set_deadline(DeadlineIn(30000));
  grpc::Status st = stub->Submit(&ctx2, many, &rep);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("at most 10000 jobs"), std::string::npos) << st.error_message();
  const std::string addr = cluster_->Address();
  const std::string port = addr.substr(addr.rfind(':') + 1);
  CmdResult r = cluster_->Shell(
      "printf 'GET / HTTP/1.1\\r\\n\\r\\n' | timeout 5 bash -c 'cat >/dev/tcp/127.0.0.1/" + port +
      "'; head -c 100000 /dev/urandom | timeout 5 bash -c 'cat >/dev/tcp/127.0.0.1/" + port +
      "'; true");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(cluster_->Corral("queue").code, 0);
  EXPECT_EQ(
      cluster_->Corral("wait -q --timeout 60 " + std::to_string(SubmitOk(*cluster_, "--wrap true")))
          .code,
      0);
}

// corral admin token with bad input: refused by name, by the CLI (exit 2) or corrald (exit 4),
// and nothing is made.
TEST_F(Access, TokenCommandsRefuseBadInputByName) {
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {"", 2, "give an operation"},
      {"bogus", 2, "unknown operation"},
      {"create", 2, "--user"},
      {"create --user a --ttl 5x", 2, "--ttl 5x"},
      {"create --user a --ttl 0s", 2, "--ttl"},
      {"create --user a extra", 2, "takes no arguments"},
      {"revoke", 2, "one token id"},
      {"list extra", 2, "takes no arguments"},
      {"list --uses 3", 2, "--uses is for create"},
      {"create --user a --role superuser", 4, "--role \"superuser\""},
      {"create --user 'a b'", 4, "--user"},
      {"create --user a --uses 3", 4, "join tokens"},
      {"create --role join --uses 100001", 4, "--uses"},
      {"create --role join --user a", 4, "leave out --user"},
      {"create --user a --comment " + std::string(300, 'c'), 4, "--comment"},
      {"create --user a --ttl 99999d", 4, "--ttl"},
      {"revoke 0123", 4, "no such token"},
  };
  const size_t before =
      nlohmann::json::parse(cluster_->Corral("admin token list --json").out)["tokens"].size();
  for (const auto& [args, code, words] : cases) {
    CmdResult r = cluster_->Corral("admin token " + args);
    EXPECT_EQ(r.code, code) << args << ": " << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << args << ": " << r.err;
  }
  EXPECT_EQ(nlohmann::json::parse(cluster_->Corral("admin token list --json").out)["tokens"].size(),
            before);
}

TEST_F(Access, TheLocalSocketKnowsTheCallerByUid) {
  const std::string sock = cluster_->dir() + "/cluster/state/corrald.sock";
  // No token and no CA: root, on the controller's machine, is its admin.
  CmdResult r = cluster_->Shell("env -u CORRAL_TOKEN -u CORRAL_CA " + BinDir() +
                                "/corral admin token list --controller unix:" + sock);
  EXPECT_EQ(r.code, 0) << r.err;
  if (geteuid() == 0) {
    r = cluster_->Shell("chmod 711 " + cluster_->dir() +
                        "; env -u CORRAL_TOKEN -u CORRAL_CA "
                        "setpriv --reuid=nobody --regid=nogroup --clear-groups " +
                        BinDir() + "/corral admin token list --controller unix:" + sock);
    EXPECT_EQ(r.code, 4) << r.err;
    EXPECT_NE(r.err.find("only an admin"), std::string::npos) << r.err;
  }
}

TEST_F(Access, TheMeshGrantsEachNodeItsOwnAddressAndRefusesABadKey) {
  auto cert_tool = NebulaProgram("nebula-cert");
  if (!cert_tool.ok() || !NebulaProgram("nebula").ok()) GTEST_SKIP() << "no Debian nebula here";
  // A UDP port free now, for the lighthouse of a corrald of its own.
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  getsockname(u, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  close(u);
  const std::string dir = cluster_->dir() + "/meshctl";
  const std::string addr =
      cluster_->StartController(dir, "--overlay on --overlay-port " + std::to_string(port));
  ASSERT_FALSE(addr.empty());
  const std::string join = FirstLine(CmdResult{0, cluster_->ReadFile(dir + "/join.token"), ""});
  auto attach = [&](const std::string& name, const std::string& overlay_key, v1::AttachReply* rep) {
    Credentials plain;
    plain.ca_pem = cluster_->ReadFile(cluster_->Env("CORRAL_CA"));
    auto stub = v1::NodeLink::NewStub(DialController(addr, plain));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(20000));
    auto key = pki::NewKey();
    v1::AttachRequest req;
    req.set_join_token(join);
    req.set_csr_pem(*pki::NewCsr(*key, name));
    req.set_name(name);
    req.set_overlay_key(overlay_key);
    return stub->Attach(&ctx, req, rep);
  };
  v1::AttachReply rep;
  for (const std::string& bad : {std::string("garbage"), std::string(5000, 'k'),
                                 std::string("-----BEGIN NEBULA X25519 PUBLIC KEY-----\nxx\n")}) {
    grpc::Status st = attach("mbad", bad, &rep);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  }
  std::vector<std::string> ips;
  for (const std::string name : {"m1", "m2"}) {
    ASSERT_TRUE(NebulaKeygen(dir + "/" + name + ".key", dir + "/" + name + ".pub").ok());
    v1::AttachReply r;
    grpc::Status st = attach(name, cluster_->ReadFile(dir + "/" + name + ".pub"), &r);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_TRUE(r.has_overlay());
    EXPECT_EQ(r.overlay().lighthouse_port(), port);
    ips.push_back(r.overlay().ip());
    // Its certificate is the mesh CA's, for this node's address.
    ASSERT_TRUE(WriteFileAtomic(dir + "/" + name + ".crt", r.overlay().cert(), 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(dir + "/mesh-ca.crt", r.overlay().ca(), 0644).ok());
    auto ok = RunCaptured(
        {*cert_tool, "verify", "-ca", dir + "/mesh-ca.crt", "-crt", dir + "/" + name + ".crt"},
        10000);
    EXPECT_TRUE(ok.ok()) << ok.status().message();
    auto shown =
        RunCaptured({*cert_tool, "print", "-json", "-path", dir + "/" + name + ".crt"}, 10000);
    ASSERT_TRUE(shown.ok());
    EXPECT_NE(shown->find(r.overlay().ip() + "/10"), std::string::npos) << *shown;
  }
  EXPECT_EQ(ips, (std::vector<std::string>{"100.64.0.2", "100.64.0.3"}));
  // Without a key, a node attaches with no place in the mesh.
  v1::AttachReply none;
  ASSERT_TRUE(attach("m3", "", &none).ok());
  EXPECT_FALSE(none.has_overlay());
  cluster_->StopController(dir);
}

}  // namespace
}  // namespace corral::testing
