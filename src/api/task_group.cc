#include "api/task_group.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace vcube::api::detail {

task_group::task_group(asio::any_io_executor strand) : strand_(strand), wake_(strand) {}

void task_group::spawn(awaitable<void> task) {
  ++running_;
  // The completion runs on strand_ (the default associated executor).
  asio::co_spawn(strand_, std::move(task), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        spdlog::error("api: a relay task ended by an exception: {}", x.what());
      } catch (...) {
        spdlog::error("api: a relay task ended by an unknown exception");
      }
    }
    if (--running_ == 0)
      wake_.cancel();
  });
}

awaitable<void> task_group::wait() {
  while (running_ > 0) {
    wake_.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

deadline_guard::deadline_guard(asio::any_io_executor strand, std::chrono::milliseconds timeout,
                               std::function<void()> on_expiry)
    : timer_(strand, timeout) {
  timer_.async_wait([is_armed = is_armed_, has_expired = has_expired_,
                     fn = std::move(on_expiry)](const boost::system::error_code& ec) {
    if (ec || !*is_armed)
      return;
    *has_expired = true;
    fn();
  });
}

deadline_guard::~deadline_guard() {
  *is_armed_ = false;
  timer_.cancel();
}

}  // namespace vcube::api::detail
