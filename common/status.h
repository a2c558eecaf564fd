// Status and Result<T>: errors as values across module boundaries (DESIGN.md rule 4).
// A Status carries a code and a message a person can act on without reading code,
// e.g. Status::Invalid("--gpus=h100:16: the largest node has 8 h100").
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace corral {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalid,
    kNotFound,
    kAlreadyExists,
    kUnavailable,
    kInternal,
    kPermissionDenied,
    kFailedPrecondition,
    kUnauthenticated  // no credential, or one that is not valid (nothing more is said)
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
  static Status PermissionDenied(std::string m) {
    return Status(Code::kPermissionDenied, std::move(m));
  }
  static Status FailedPrecondition(std::string m) {
    return Status(Code::kFailedPrecondition, std::move(m));
  }
  static Status Unauthenticated(std::string m) {
    return Status(Code::kUnauthenticated, std::move(m));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  // "invalid: <message>", or "ok".
  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), msg_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

// Either a value or a non-ok Status. Accessing value() of an error is a programming error.
template <typename T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}       // NOLINT: implicit by design
  Result(Status s) : v_(std::move(s)) {}  // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace corral
