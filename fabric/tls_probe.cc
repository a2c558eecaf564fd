#include "fabric/tls_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace corral {

namespace {

// A connected TCP socket, or -1 with *why set.
int ConnectWithin(const std::string& host, const std::string& port, int timeout_ms,
                  std::string* why) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int e = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); e != 0) {
    *why = gai_strerror(e);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int r = connect(fd, a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
          err == 0) {
        r = 0;
      } else {
        errno = err ? err : ETIMEDOUT;
      }
    }
    if (r == 0) break;
    *why = strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  return fd;
}

}  // namespace

Result<TlsPeer> ProbeTls(const std::string& host_port, int timeout_ms, bool tls12_only) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size()) {
    return Status::Invalid("controller address \"" + host_port.substr(0, 128) +
                           "\": must be HOST:PORT");
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string why;
  int fd = ConnectWithin(host, host_port.substr(colon + 1), timeout_ms, &why);
  if (fd < 0) return Status::Unavailable("controller " + host_port + ": " + why);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // checked by the caller, by pin
  if (tls12_only) SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof kAlpn);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd);
  SSL_set_tlsext_host_name(ssl.get(), "corrald");
  if (SSL_connect(ssl.get()) != 1) {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    char buf[256] = "no TLS handshake";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    close(fd);
    return Status::Unavailable("controller " + host_port + ": TLS handshake failed (" + buf + ")");
  }
  TlsPeer peer;
  peer.version = SSL_get_version(ssl.get());
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get());
  for (int i = 0; chain && i < sk_X509_num(chain); ++i) {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, sk_X509_value(chain, i));
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    peer.chain.emplace_back(data, static_cast<size_t>(n));
    BIO_free(b);
  }
  SSL_shutdown(ssl.get());
  close(fd);
  return peer;
}

}  // namespace corral
