// A job's server for the tunnel and mesh tests: listens on 127.0.0.1, or the address argv[2]
// (0.0.0.0: every one), on a port the OS picks, writes that port to the file named by argv[1],
// and echoes every connection back until it closes; with "sink" after the address, it reads a
// connection to its end and answers with the count of bytes it read (bench/fabric's forward
// throughput).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: tunnel_echo PORTFILE [ADDRESS [sink]]\n");
    return 2;
  }
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool sink = argc == 4 && std::string(argv[3]) == "sink";
  if (argc >= 3 && inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
    std::fprintf(stderr, "tunnel_echo: %s: not an IPv4 address\n", argv[2]);
    return 2;
  }
  socklen_t len = sizeof a;
  if (ls < 0 || bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(ls, 16) != 0 ||
      getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::perror("tunnel_echo: listen");
    return 1;
  }
  std::string tmp = std::string(argv[1]) + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return 1;
  std::fprintf(f, "%d\n", ntohs(a.sin_port));
  std::fclose(f);
  std::rename(tmp.c_str(), argv[1]);
  for (;;) {
    int c = accept(ls, nullptr, nullptr);
    if (c < 0) continue;
    std::thread([c, sink] {
      char buf[65536];
      if (sink) {
        long long total = 0;
        for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) total += n;
        std::string reply = std::to_string(total) + "\n";
        [[maybe_unused]] ssize_t w = write(c, reply.data(), reply.size());
        close(c);
        return;
      }
      for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) {
        for (ssize_t done = 0; done < n;) {
          ssize_t w = write(c, buf + done, static_cast<size_t>(n - done));
          if (w <= 0) {
            close(c);
            return;
          }
          done += w;
        }
      }
      close(c);
    }).detach();
  }
}
