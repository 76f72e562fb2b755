// Internals of http_server shared with its connections; not public.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <atomic>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "api/handler.h"
#include "api/http_server.h"
#include "api/router.h"

namespace vcube::api::detail {

struct connection;

// Owned jointly by the http_server and every live connection and accept loop.
struct server_state {
  server_state(asio::any_io_executor executor, asio::ssl::context tls, router routes,
               authenticator auth, http_limits limits);

  // Registers `c` and gives it an id; false when stopping or at connections_max.
  bool add(const std::shared_ptr<connection>& c);
  void remove(uint64_t id);
  std::vector<std::shared_ptr<connection>> live();
  size_t count() const;
  // Waits until no connection is left or `deadline` passes; true if none is left.
  bool wait_empty(std::chrono::steady_clock::time_point deadline);

  asio::any_io_executor executor;
  asio::strand<asio::any_io_executor> strand;  // the acceptor's
  asio::ssl::context tls;
  const router routes;
  const authenticator auth;
  const http_limits limits;
  asio::ip::tcp::acceptor acceptor;  // used on `strand` only
  std::atomic<bool> is_stopping{false};
  std::atomic<size_t> websocket_sessions{0};  // handlers of WebSocket routes running

 private:
  mutable std::mutex mutex_;
  std::condition_variable emptied_;
  std::map<uint64_t, std::weak_ptr<connection>> connections_;  // guarded by mutex_
  uint64_t next_id_ = 1;                                       // guarded by mutex_
};

// One accepted connection. Every member is used on the stream's strand only.
struct connection {
  connection(asio::ip::tcp::socket socket, std::shared_ptr<server_state> server);
  ~connection();  // unregisters from the server

  // Closes the socket unless a request is in progress (or `force`); a
  // WebSocket session with on_stop set is asked to end instead.
  void close(bool force);

  beast::ssl_stream<beast::tcp_stream> stream;
  std::shared_ptr<server_state> server;
  uint64_t id = 0;
  bool is_busy = false;           // between reading a request and writing its response
  std::function<void()> on_stop;  // set by a WebSocket handler (websocket_upgrade::set_on_stop)
  std::string remote_address;
};

// The connection's life: TLS handshake, requests until close, closing.
awaitable<void> run_connection(std::shared_ptr<connection> c);

}  // namespace vcube::api::detail
