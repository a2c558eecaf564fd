#include "sched/ctld/acct_sink.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "common/time.h"

namespace corral::ctld {

AcctSink::AcctSink(std::unique_ptr<AccountingWriter> writer, Written written,
                   size_t max_pending_samples)
    : writer_(std::move(writer)), written_(std::move(written)), max_samples_(max_pending_samples) {
  thread_ = std::thread([this] { Loop(); });
}

AcctSink::~AcctSink() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void AcctSink::Post(AccountingBatch b) {
  if (b.empty()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto move_all = [](auto& from, auto& to) {
      if (to.empty()) {
        to = std::move(from);
      } else {
        to.insert(to.end(), std::make_move_iterator(from.begin()),
                  std::make_move_iterator(from.end()));
      }
    };
    move_all(b.jobs, pending_.jobs);
    move_all(b.steps, pending_.steps);
    size_t room = max_samples_ > pending_.usage.size() ? max_samples_ - pending_.usage.size() : 0;
    if (b.usage.size() > room) {
      dropped_ += static_cast<int64_t>(b.usage.size() - room);
      b.usage.resize(room);
    }
    move_all(b.usage, pending_.usage);
    ++posted_;
  }
  cv_.notify_one();
}

bool AcctSink::Flush(int64_t timeout_ms) {
  std::unique_lock<std::mutex> l(mu_);
  const uint64_t want = posted_;
  return flushed_cv_.wait_for(l, std::chrono::milliseconds(timeout_ms),
                              [&] { return done_ >= want; });
}

int64_t AcctSink::dropped_samples() const {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_;
}

void AcctSink::Loop() {
  TimeMs give_up_at = 0;  // once stopping with appends failing
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) {
      done_ = posted_;
      flushed_cv_.notify_all();
      if (stopping_) return;
      continue;
    }
    AccountingBatch b = std::move(pending_);
    pending_ = AccountingBatch{};
    const uint64_t upto = posted_;
    l.unlock();
    Status st = writer_->Append(b);
    std::vector<JobId> ids;
    if (st.ok()) {
      ids.reserve(b.jobs.size());
      for (const JobRecord& r : b.jobs) ids.push_back(r.job_id);
      if (!ids.empty() && written_) written_(std::move(ids));
    }
    l.lock();
    if (st.ok()) {
      done_ = upto;
      flushed_cv_.notify_all();
      continue;
    }
    spdlog::error("accounting: append failed, will retry: {}", st.message());
    // Put it back in front of what came meanwhile, and wait a second (or stop trying, once
    // stopping and the drain time is over: the next start reconciles the job rows).
    auto put_back = [](auto& older, auto& newer) {
      older.insert(older.end(), std::make_move_iterator(newer.begin()),
                   std::make_move_iterator(newer.end()));
      newer = std::move(older);
    };
    put_back(b.jobs, pending_.jobs);
    put_back(b.steps, pending_.steps);
    put_back(b.usage, pending_.usage);
    if (stopping_) {
      if (give_up_at == 0) give_up_at = MonotonicNowMs() + drain_ms_;
      if (MonotonicNowMs() >= give_up_at) {
        spdlog::error(
            "accounting: stopping with {} job row(s) unwritten (written on the next start)",
            pending_.jobs.size());
        return;
      }
    }
    cv_.wait_for(l, std::chrono::seconds(1));
  }
}

}  // namespace corral::ctld
