// Runs a blocking call (disk I/O) on a thread pool and resumes the calling
// coroutine on its own executor with the result, so the event loop never
// waits for a disk.
#pragma once

#include <utility>

#include "common/asio.h"

namespace vcube::esan {

// `fn` runs on `pool`; anything it references must outlive the co_await,
// which holds when it refers to the awaiting coroutine's locals.
template <class Result, class Fn>
awaitable<Result> offload(asio::thread_pool& pool, Fn fn) {
  auto initiate = [&pool, &fn](auto handler) {
    asio::post(pool, [fn = std::move(fn), handler = std::move(handler)]() mutable {
      Result outcome = fn();
      auto executor = asio::get_associated_executor(handler);
      asio::post(executor, [handler = std::move(handler), outcome = std::move(outcome)]() mutable {
        std::move(handler)(std::move(outcome));
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(use_awaitable), void(Result)>(initiate,
                                                                                 use_awaitable);
}

}  // namespace vcube::esan
