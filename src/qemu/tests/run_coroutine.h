// Runs one coroutine to completion on an io_context, for tests. Other work on
// the context (a QMP reader) keeps running meanwhile; the wait is bounded.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>

#include "common/asio.h"

namespace vcube::qemu::testing {

// co_spawn's completion wants a default-constructible value; result<T> is not.
template <class T>
awaitable<void> store_outcome(awaitable<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

template <class T>
T run_coroutine(asio::io_context& io, awaitable<T> task,
                std::chrono::seconds limit = std::chrono::seconds(120)) {
  std::optional<T> out;
  std::exception_ptr failure;
  asio::co_spawn(io, store_outcome(std::move(task), &out),
                 [&failure](std::exception_ptr e) { failure = e; });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!out && !failure && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  if (failure)
    std::rethrow_exception(failure);
  if (!out) {
    ADD_FAILURE() << "the coroutine did not finish within " << limit.count() << " s";
    std::abort();  // nothing to return; the test binary cannot go on
  }
  return std::move(*out);
}

}  // namespace vcube::qemu::testing
