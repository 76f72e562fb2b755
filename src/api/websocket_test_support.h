// Test support for WebSocket routes: a fake VNC server on a unix socket that
// speaks the start of RFB 3.8 and then echoes, an RFB client handshake over
// a client WebSocket, and a bounded run of one coroutine.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <thread>

#include "api/websocket_client.h"

namespace vcube::api::testing {

// co_spawn's completion wants a default-constructible value; result<T> is not.
template <class T>
awaitable<void> store_outcome(awaitable<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

// Runs `task` on `io` (from this thread) until it finishes; aborts past `limit`.
template <class T>
T run_coroutine(asio::io_context& io, awaitable<T> task,
                std::chrono::seconds limit = std::chrono::seconds(20)) {
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

// Listens on `path` with its own thread. Each client gets "RFB 003.008\n",
// security type None, ServerInit 800x600 named "fake", then its bytes back.
class fake_vnc_server {
 public:
  struct options {
    bool close_after_init = false;  // close right after ServerInit
  };
  explicit fake_vnc_server(std::string path, options o);
  explicit fake_vnc_server(std::string path) : fake_vnc_server(std::move(path), options{}) {}
  ~fake_vnc_server();
  const std::string& path() const { return path_; }
  int accepted() const { return accepted_; }
  int ended_by_client() const { return ended_by_client_; }  // sessions ended by the client's EOF

 private:
  awaitable<void> accept_loop();
  awaitable<void> session(asio::local::stream_protocol::socket socket);

  std::string path_;
  options options_;
  asio::io_context ioc_;
  asio::local::stream_protocol::acceptor acceptor_{ioc_};
  std::atomic<int> accepted_{0};
  std::atomic<int> ended_by_client_{0};
  std::thread thread_;
};

struct rfb_server_init {
  std::string version;  // "RFB 003.008\n"
  unsigned width = 0;
  unsigned height = 0;
  std::string name;
};

// The client's half of RFB 3.8 up to ServerInit, with security type None.
awaitable<result<rfb_server_init>> rfb_handshake(tls_websocket& ws);

// Reads exactly `n` bytes from a WebSocket whatever its message boundaries;
// bytes past them stay in `pending`.
awaitable<result<std::string>> read_exact(tls_websocket& ws, std::string& pending, size_t n);

// A fresh directory under /tmp for sockets (short enough for sun_path).
std::string make_socket_dir();

}  // namespace vcube::api::testing
