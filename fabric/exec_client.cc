#include "fabric/exec_client.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "fabric/channel.h"

namespace corral {

ExecOutcome RunExec(const std::string& address, const Credentials& creds,
                    const v1::ExecRequest& req,
                    const std::function<void(const std::string&)>& on_stdout,
                    const std::function<void(const std::string&)>& on_stderr, int64_t follow_ms,
                    const std::function<void(int64_t)>& on_started) {
  using Clock = std::chrono::steady_clock;
  ExecOutcome out;
  int64_t step = 0;  // known once the controller named it
  Clock::time_point give_up;
  int backoff_ms = 100;
  for (;;) {
    grpc::ClientContext ctx;
    v1::ExecRequest r;
    if (step == 0) {
      r = req;
    } else {
      r.set_job_id(req.job_id());
      r.set_node(req.node());
      r.set_attach_step(step);
    }
    auto stub = v1::Controller::NewStub(DialController(address, creds));
    auto reader = stub->Exec(&ctx, r);
    v1::ExecEvent ev;
    bool ended = false;
    while (reader->Read(&ev)) {
      if (ev.has_step_id()) {
        if (step == 0 && on_started) on_started(ev.step_id());
        step = ev.step_id();
      } else if (ev.has_stdout()) {
        on_stdout(ev.stdout());
      } else if (ev.has_stderr()) {
        on_stderr(ev.stderr());
      } else if (ev.has_exit_code()) {
        out.exit_code = ev.exit_code();
        ended = true;
      } else if (ev.has_error()) {
        out.error = ev.error();
        ended = true;
      }
      if (ended) break;
      backoff_ms = 100;
      give_up = Clock::time_point();  // it answered: the clock starts again at the next break
    }
    if (ended) {
      // The server closes the call after the last event. Not cancelled from here: to corrald a
      // client that cancels is one that went away, and that ends a `corral run` allocation.
      (void)reader->Finish();
      return out;
    }
    grpc::Status st = reader->Finish();
    bool broke = st.error_code() == grpc::StatusCode::UNAVAILABLE ||
                 st.error_code() == grpc::StatusCode::CANCELLED;
    if (st.ok()) {
      out.error = "the controller ended the step's stream without its exit";
      return out;
    }
    if (step == 0 || !broke) {
      // Not started (nothing to follow), or refused: the controller's answer is final.
      out.error = FromGrpc(st, address).message();
      return out;
    }
    // The controller went away (a restart): follow the step on the next one.
    if (give_up == Clock::time_point())
      give_up = Clock::now() + std::chrono::milliseconds(follow_ms);
    if (Clock::now() > give_up) {
      out.error = FromGrpc(st, address).message() + " (no controller to follow step " +
                  std::to_string(step) + " on for " + std::to_string(follow_ms / 1000) + " s)";
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 1000);
  }
}

}  // namespace corral
