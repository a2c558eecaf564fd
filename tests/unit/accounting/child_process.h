// Runs a function in a forked child and lets parent and child take turns through two pipes.
// The child never returns into the test framework: it ends with _exit(body's result), or
// however the body ends it (kill -9 included). Use only where the parent has no other threads.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace corral::testing {

class ChildProcess {
 public:
  // Starts `body` in a child. `body` returns the child's exit code (0 = success).
  explicit ChildProcess(const std::function<int(ChildProcess&)>& body) {
    EXPECT_EQ(pipe(to_child_), 0);
    EXPECT_EQ(pipe(to_parent_), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(to_child_[1]);
      close(to_parent_[0]);
      in_child_ = true;
      _exit(body(*this));
    }
    close(to_child_[0]);
    close(to_parent_[1]);
  }
  ~ChildProcess() {
    if (pid_ > 0 && !reaped_) Kill();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Signals the other side; false if it is gone.
  bool Post() {
    char c = 1;
    return write(in_child_ ? to_parent_[1] : to_child_[1], &c, 1) == 1;
  }
  // Waits for the other side to Post; false if it went away first.
  bool Await() {
    char c;
    return read(in_child_ ? to_child_[0] : to_parent_[0], &c, 1) == 1;
  }
  // Parent only: kill -9s the child, reaps it and returns its wait status.
  int Kill() {
    kill(pid_, SIGKILL);
    return Wait();
  }
  // Parent only: reaps the child and returns its wait status.
  int Wait() {
    int status = 0;
    EXPECT_EQ(waitpid(pid_, &status, 0), pid_);
    reaped_ = true;
    close(to_child_[1]);
    close(to_parent_[0]);
    return status;
  }

 private:
  int to_child_[2] = {-1, -1};
  int to_parent_[2] = {-1, -1};
  pid_t pid_ = -1;
  bool in_child_ = false;
  bool reaped_ = false;
};

}  // namespace corral::testing
