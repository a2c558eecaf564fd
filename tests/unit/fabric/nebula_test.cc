// The mesh's pieces that need no network: overlay addresses, the config nebula reads, and
// nebula-cert's CA, keys and certificates (Debian's nebula package; skipped without it).
#include "fabric/nebula.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/files.h"
#include "common/subprocess.h"

namespace corral {
namespace {

TEST(Overlay, AddressesNumberTheNodesAfterTheLighthouse) {
  EXPECT_EQ(OverlayIp(1), "100.64.0.2");
  EXPECT_EQ(OverlayIp(254), "100.64.0.255");
  EXPECT_EQ(OverlayIp(255), "100.64.1.0");
  EXPECT_EQ(OverlayIp((1 << 22) - 3), "100.127.255.254");
  EXPECT_EQ(OverlayIp((1 << 22) - 2), "");  // the broadcast address is no node's
  EXPECT_EQ(OverlayIp(0), "");
  EXPECT_EQ(OverlayIp(-1), "");
  for (int64_t n : {1, 2, 255, 256, 70000, (1 << 22) - 3}) EXPECT_EQ(OverlayIndex(OverlayIp(n)), n);
  for (const char* bad : {"", "100.64.0.1", "100.64.0.0", "100.128.0.1", "10.0.0.1", "100.64.0.2x",
                          "100.64.0", "100.64.0.256", "a.b.c.d", "100.64.0.2 "}) {
    EXPECT_EQ(OverlayIndex(bad), 0) << bad;
  }
}

TEST(NebulaYaml, ALighthouseRelaysAndANodeUsesTheRelay) {
  NebulaSettings lh;
  lh.ca = "/s/ca.crt";
  lh.cert = "/s/lh.crt";
  lh.key = "/s/lh \"odd\".key";
  lh.lighthouse = true;
  lh.listen_port = 4242;
  std::string y = NebulaYaml(lh);
  EXPECT_NE(y.find("am_lighthouse: true"), std::string::npos);
  EXPECT_NE(y.find("am_relay: true"), std::string::npos);
  EXPECT_NE(y.find("disabled: true"), std::string::npos);  // no tun on the controller
  EXPECT_NE(y.find("port: 4242"), std::string::npos);
  EXPECT_NE(y.find("\"/s/lh \\\"odd\\\".key\""), std::string::npos) << y;  // quoted
  EXPECT_NE(y.find("read_buffer: 8388608"), std::string::npos);
  NebulaSettings node;
  node.ca = "/n/ca.crt";
  node.cert = "/n/c.crt";
  node.key = "/n/k.key";
  node.lighthouse_endpoint = "10.0.0.1:4242";
  node.tun_dev = "crl0001";
  y = NebulaYaml(node);
  EXPECT_NE(y.find("\"100.64.0.1\": [\"10.0.0.1:4242\"]"), std::string::npos) << y;
  EXPECT_NE(y.find("use_relays: true"), std::string::npos);
  EXPECT_NE(y.find("relays: [\"100.64.0.1\"]"), std::string::npos);
  EXPECT_NE(y.find("dev: \"crl0001\""), std::string::npos);
  EXPECT_NE(y.find("mtu: 1300"), std::string::npos);
  // Nothing gets in but ICMP until jobs name their peers; then only those.
  std::string inbound = y.substr(y.find("inbound:"));
  EXPECT_EQ(inbound.find("proto: any"), std::string::npos) << inbound;
  node.peers = {"100.64.0.3", "100.64.0.9"};
  y = NebulaYaml(node);
  inbound = y.substr(y.find("inbound:"));
  EXPECT_NE(inbound.find("cidr: \"100.64.0.3/32\""), std::string::npos) << inbound;
  EXPECT_NE(inbound.find("cidr: \"100.64.0.9/32\""), std::string::npos) << inbound;
  EXPECT_EQ(inbound.find("host: any\n    - port: any\n      proto: any\n      host"),
            std::string::npos);
}

class NebulaCert : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NebulaProgram("nebula-cert").ok()) GTEST_SKIP() << "Debian's nebula is not installed";
    char tmpl[] = "/tmp/nebula-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(NebulaCert, SignsANodesOwnKeyWithItsAddressAndGroup) {
  ASSERT_TRUE(NebulaCa(dir_, "test mesh").ok());
  EXPECT_EQ(
      std::filesystem::status(dir_ + "/ca.key").permissions() & std::filesystem::perms::others_read,
      std::filesystem::perms::none);
  ASSERT_TRUE(NebulaKeygen(dir_ + "/n.key", dir_ + "/n.pub").ok());
  auto pub = ReadSmallFile(dir_ + "/n.pub");
  ASSERT_TRUE(pub.ok());
  auto cert = NebulaSign(dir_, "n1", OverlayIp(7), "node", *pub);
  ASSERT_TRUE(cert.ok()) << cert.status().message();
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/n.crt", *cert, 0644).ok());
  auto shown = RunCaptured(
      {*NebulaProgram("nebula-cert"), "print", "-json", "-path", dir_ + "/n.crt"}, 10000);
  ASSERT_TRUE(shown.ok()) << shown.status().message();
  EXPECT_NE(shown->find("\"name\":\"n1\""), std::string::npos) << *shown;
  EXPECT_NE(shown->find("100.64.0.8/10"), std::string::npos) << *shown;
  EXPECT_NE(shown->find("\"node\""), std::string::npos) << *shown;
  auto verified = RunCaptured(
      {*NebulaProgram("nebula-cert"), "verify", "-ca", dir_ + "/ca.crt", "-crt", dir_ + "/n.crt"},
      10000);
  EXPECT_TRUE(verified.ok()) << verified.status().message();
  // Not a key: refused, with nebula-cert's reason.
  auto bad = NebulaSign(dir_, "n2", OverlayIp(8), "node", "garbage");
  EXPECT_FALSE(bad.ok());
  // No scratch left behind.
  int left = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    left += e.path().filename().string().rfind("sign.", 0) == 0;
  }
  EXPECT_EQ(left, 0);
}

}  // namespace
}  // namespace corral
