// A second thread applying a resync target's resync_data frames, so that two
// frames are copied into the page cache at once (that copy bounds a resync:
// bench/RESULTS.md, eSAN). The receiver hands a frame over when this thread
// is idle and applies it itself otherwise; before any other frame it waits
// until this thread is idle, so frames that may touch the same bytes (a write
// after the resync of its region) are still applied in the order they came.
// Two resync_data frames in flight never overlap: a region is sent again only
// after its ack, which follows its apply.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "esan/repl_protocol.h"

namespace vcube::esan {

class apply_worker {
 public:
  explicit apply_worker(std::function<void(const repl::frame&)> apply)
      : apply_(std::move(apply)), thread_([this] { run(); }) {}
  ~apply_worker() { stop(); }
  apply_worker(const apply_worker&) = delete;
  apply_worker& operator=(const apply_worker&) = delete;

  // Takes `f` (moved from) when idle; false: busy, `f` is untouched.
  bool try_hand(repl::frame& f) {
    std::lock_guard lock(mutex_);
    if (frame_ || is_stopping_)
      return false;
    frame_ = std::move(f);
    changed_.notify_all();
    return true;
  }
  // Until the frame handed over is applied (and acknowledged).
  void wait_idle() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !frame_; });
  }
  // Applies what it holds, then ends; idempotent.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      is_stopping_ = true;
      changed_.notify_all();
    }
    if (thread_.joinable())
      thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return frame_ || is_stopping_; });
      if (!frame_)
        return;
      lock.unlock();
      apply_(*frame_);  // frame_ is this thread's until it is reset
      lock.lock();
      frame_.reset();
      changed_.notify_all();
    }
  }

  std::function<void(const repl::frame&)> apply_;
  std::mutex mutex_;  // frame_, is_stopping_
  std::condition_variable changed_;
  std::optional<repl::frame> frame_;
  bool is_stopping_ = false;
  std::thread thread_;  // last: starts when the rest is built
};

}  // namespace vcube::esan
