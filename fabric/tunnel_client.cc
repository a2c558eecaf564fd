#include "fabric/tunnel_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <thread>

#include "fabric/channel.h"
#include "fabric/tunnel_window.h"

namespace corral {

namespace {

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool IsSocket(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

TunnelOutcome RunTunnel(const std::shared_ptr<grpc::Channel>& channel, const std::string& address,
                        const v1::TunnelOpen& open, const TunnelEnds& ends) {
  TunnelOutcome out;
  auto stub = v1::Controller::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->Tunnel(&ctx);
  std::mutex write_mu;  // gRPC allows one write at a time; the reader writes credit
  auto send = [&](const v1::TunnelFrame& f) {
    std::lock_guard<std::mutex> l(write_mu);
    return stream->Write(f);
  };
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    out.status = Status::Internal(std::string("pipe: ") + strerror(errno));
    return out;
  }
  std::mutex mu;
  uint64_t granted = 0;  // credit from the far end, for the writer
  bool done = false;
  std::string error;  // from the far end's last frame
  auto poke = [&] {
    char c = 1;
    [[maybe_unused]] ssize_t n = write(wake[1], &c, 1);
  };
  v1::TunnelFrame first;
  *first.mutable_open() = open;
  send(first);
  const bool out_is_socket = ends.out_fd >= 0 && IsSocket(ends.out_fd);

  std::thread reader([&] {
    ReceiveWindow rx;
    v1::TunnelFrame f;
    while (stream->Read(&f)) {
      if (f.has_opened()) {
        out.opened = true;
        if (ends.opened) ends.opened(f.opened());
      } else if (f.has_data()) {
        if (!rx.Receive(f.data().size())) {
          error = "tunnel: the far end sent more than its window";
          ctx.TryCancel();
          continue;
        }
        if (ends.out_fd >= 0 && !WriteAll(ends.out_fd, f.data())) {
          ctx.TryCancel();  // nobody takes the output any more: the tunnel ends
          continue;
        }
        if (uint64_t c = rx.Consumed(f.data().size()); c > 0) {
          v1::TunnelFrame credit;
          credit.set_credit(c);
          send(credit);
        }
      } else if (f.has_credit()) {
        std::lock_guard<std::mutex> l(mu);
        granted += f.credit();
        poke();
      } else if (f.has_eof()) {
        if (out_is_socket) shutdown(ends.out_fd, SHUT_WR);
      } else if (f.has_exit_code()) {
        out.exit_code = f.exit_code();
      } else if (f.has_error()) {
        error = f.error();
      }
    }
    std::lock_guard<std::mutex> l(mu);
    done = true;
    poke();
  });

  SendWindow win;
  bool in_open = ends.in_fd >= 0;
  if (!in_open) {
    v1::TunnelFrame eof;
    eof.set_eof(true);
    send(eof);
  }
  std::string buf(kTunnelChunk, '\0');
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (done) break;
      if (granted > 0 && !win.Grant(std::exchange(granted, 0))) {
        error = "tunnel: the far end returned credit it was not owed";
        ctx.TryCancel();
      }
    }
    pollfd fds[3] = {{wake[0], POLLIN, 0},
                     {in_open && win.allowed() > 0 ? ends.in_fd : -1, POLLIN, 0},
                     {ends.resize_fd, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      char drain[64];
      while (read(wake[0], drain, sizeof drain) > 0) {
      }
    }
    if (fds[1].revents) {
      ssize_t n = read(ends.in_fd, buf.data(), win.NextChunk());
      if (n > 0) {
        win.Spend(static_cast<uint64_t>(n));
        v1::TunnelFrame d;
        d.set_data(buf.data(), static_cast<size_t>(n));
        send(d);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        in_open = false;
        v1::TunnelFrame eof;
        eof.set_eof(true);
        send(eof);
      }
    }
    if (fds[2].revents) {
      char drain[64];
      while (read(ends.resize_fd, drain, sizeof drain) > 0) {
      }
      if (ends.size) {
        v1::TunnelFrame r;
        *r.mutable_resize() = ends.size();
        send(r);
      }
    }
  }
  reader.join();
  grpc::Status st = stream->Finish();
  close(wake[0]);
  close(wake[1]);
  if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) {
    out.status = FromGrpc(st, address);
  } else if (!error.empty()) {
    out.status = Status::FailedPrecondition(error);
  } else if (!st.ok() && out.exit_code < 0) {
    out.status = FromGrpc(st, address);
  }
  return out;
}

}  // namespace corral
