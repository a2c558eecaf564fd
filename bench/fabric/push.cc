// bench/fabric's tunnel throughput: sends MIB mebibytes to HOST:PORT (a `corral forward` port
// whose far end is tunnel_echo's sink), half-closes, and waits for the count the sink read.
// Prints "mbps=X" (megabits per second, from the first byte to the sink's answer).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: push HOST PORT MIB\n");
    return 2;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) return 2;
  const long long total = std::atoll(argv[3]) << 20;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("push: connect");
    return 1;
  }
  std::string buf(1 << 16, 'x');
  auto t0 = std::chrono::steady_clock::now();
  for (long long sent = 0; sent < total;) {
    ssize_t n = write(fd, buf.data(), std::min<long long>(buf.size(), total - sent));
    if (n <= 0) {
      std::perror("push: write");
      return 1;
    }
    sent += n;
  }
  shutdown(fd, SHUT_WR);
  std::string reply;
  char c[64];
  for (ssize_t n; (n = read(fd, c, sizeof c)) > 0;) reply.append(c, static_cast<size_t>(n));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (std::atoll(reply.c_str()) != total) {
    std::fprintf(stderr, "push: the sink read %s bytes of %lld\n", reply.c_str(), total);
    return 1;
  }
  std::printf("mbps=%.0f\n", static_cast<double>(total) * 8 / s / 1e6);
  return 0;
}
