// off_loop: runs a blocking function on a thread pool and resumes the calling
// coroutine on its own executor with the result, so the event loop keeps
// serving meanwhile.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <functional>
#include <optional>

namespace vcube::daemon {

namespace detail {
template <class R>
awaitable<std::optional<R>> call_here(std::function<R()> fn) {
  co_return fn();
}
}  // namespace detail

// `fn` must not touch state owned by the event loop's thread.
template <class R>
awaitable<R> off_loop(asio::thread_pool& pool, std::function<R()> fn) {
  auto out = co_await asio::co_spawn(pool, detail::call_here<R>(std::move(fn)), use_awaitable);
  co_return std::move(*out);
}

}  // namespace vcube::daemon
