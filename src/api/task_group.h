// Coroutines that run side by side on one strand, and a wait until all of
// them are done (Boost 1.74 has no awaitable operators). Used on that strand
// only; the group must outlive its tasks, which wait() guarantees.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <cassert>
#include <chrono>
#include <functional>
#include <memory>

namespace vcube::api::detail {

class task_group {
 public:
  // `strand` runs the tasks; the caller of wait() must run on it too.
  explicit task_group(asio::any_io_executor strand);
  ~task_group() { assert(running_ == 0); }
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  // Starts `task` (after the caller next suspends). An exception escaping it is logged.
  void spawn(awaitable<void> task);
  // Returns once no task is running.
  awaitable<void> wait();
  size_t running() const { return running_; }

 private:
  asio::any_io_executor strand_;
  asio::steady_timer wake_;
  size_t running_ = 0;
};

// Calls `on_expiry` (on `strand`) if `timeout` passes before the guard is
// destroyed. For deadlines on operations that have none of their own.
class deadline_guard {
 public:
  deadline_guard(asio::any_io_executor strand, std::chrono::milliseconds timeout,
                 std::function<void()> on_expiry);
  ~deadline_guard();
  deadline_guard(const deadline_guard&) = delete;
  deadline_guard& operator=(const deadline_guard&) = delete;
  bool has_expired() const { return *has_expired_; }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> is_armed_ = std::make_shared<bool>(true);
  std::shared_ptr<bool> has_expired_ = std::make_shared<bool>(false);
};

}  // namespace vcube::api::detail
