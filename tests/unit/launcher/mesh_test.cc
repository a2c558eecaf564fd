// Which MPI transport a node's jobs get over the mesh (launcher/mesh.h).
#include "launcher/mesh.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

// As ucx_info -d prints it: the transport's header again for every device.
const char* kUcxInfo =
    "#      Transport: self\n#         Device: memory0\n"
    "#      Transport: tcp\n#         Device: lo\n"
    "#      Transport: tcp\n#         Device: crl0464c709\n"
    "#      Transport: tcp\n#         Device: eth0\n"
    "#      Transport: sysv\n#         Device: memory\n";

TEST(Mesh, UcxTakesTheTunDeviceOnlyUnderItsTcpTransport) {
  EXPECT_TRUE(UcxTcpHasDevice(kUcxInfo, "crl0464c709"));
  EXPECT_TRUE(UcxTcpHasDevice(kUcxInfo, "eth0"));
  EXPECT_FALSE(UcxTcpHasDevice(kUcxInfo, "crl0464c70"));  // a prefix is not the device
  EXPECT_FALSE(UcxTcpHasDevice(kUcxInfo, "memory"));      // listed, but not under tcp
  EXPECT_FALSE(UcxTcpHasDevice("", "crl0464c709"));
  EXPECT_FALSE(UcxTcpHasDevice("#         Device: crl0\n", "crl0"));  // no transport at all
}

}  // namespace
}  // namespace corral
