#include "launcher/listeners.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace corral {
namespace {

// Lines as Linux writes them: a header, then sl local remote st tx:rx tr:when retr uid to inode.
const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "111 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "222 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0A00000A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "333 1 0000000000000000 100 0 0 10 0\n"
    "   3: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "444 1 0000000000000000 20 4 30 10 -1\n";

const char* kTcp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000  1000        0 555 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000  1000        0 666 1 0000000000000000 100 0 0 10 0\n"
    "   2: 20010DB8000000000000000000000001:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 0 10 0\n";

TEST(Listeners, FindsLoopbackAndWildcardListenersOfThePortOnly) {
  EXPECT_EQ(ParseListening(kTcp, 8080), (std::set<uint64_t>{111}));  // not 10.0.0.10, not ESTAB
  EXPECT_EQ(ParseListening(kTcp, 8081), (std::set<uint64_t>{222}));  // 0.0.0.0
  EXPECT_TRUE(ParseListening(kTcp, 80).empty());
  EXPECT_EQ(ParseListening(kTcp6, 8080), (std::set<uint64_t>{555, 666}));  // ::1, mapped 127
}

TEST(Listeners, SkipsLinesThatDoNotParse) {
  const std::string junk =
      "header\n"
      "garbage\n"
      "0: 0100007F 00000000:0000 0A a b c d e 9\n"             // no port
      "0: 0100007F:ZZZZ 00000000:0000 0A a b c d e 9\n"        // bad port
      "0: 0100007F:1F90 00000000:0000 QQ a b c d e 9\n"        // bad state
      "0: 0100007F:1F90 00000000:0000 0A a b c d e notanum\n"  // bad inode
      "0: 0100007F:1F90 00000000:0000 0A a b c d e 0\n"        // inode 0
      "0: 0100007F:FFFFFFFFFFFFFFFFFF 00000000:0000 0A a b c d e 9\n"
      "\n";
  EXPECT_TRUE(ParseListening(junk, 8080).empty());
  EXPECT_TRUE(ParseListening("", 8080).empty());
}

TEST(Listeners, SeesWhoHoldsALiveListener) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  auto inodes = ListeningSockets(port);
  ASSERT_EQ(inodes.size(), 1u);
  EXPECT_TRUE(HoldsSocket({getpid()}, inodes));
  // A process that does not hold it: a child that closed its copy.
  pid_t child = fork();
  if (child == 0) {
    close(fd);
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  bool held_by_child = true;
  for (int i = 0; i < 200 && held_by_child; ++i) {  // until the child has closed it
    held_by_child = HoldsSocket({child}, inodes);
    if (held_by_child) usleep(5000);
  }
  EXPECT_FALSE(held_by_child);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(fd);
  EXPECT_TRUE(ListeningSockets(port).empty());
  EXPECT_FALSE(HoldsSocket({getpid()}, {}));
}

}  // namespace
}  // namespace corral
