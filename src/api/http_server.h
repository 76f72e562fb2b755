// The HTTPS server: Beast over TLS, one coroutine per connection on its own
// strand, keep-alive, a deadline on every read and write, size limits on every
// request, a cap on connections, and a bounded graceful stop.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <boost/asio/ssl.hpp>
#include <chrono>
#include <cstddef>
#include <memory>

#include "api/handler.h"
#include "api/router.h"
#include "api/websocket.h"
#include "common/error.h"

namespace vcube::api {

struct http_limits {
  std::chrono::milliseconds handshake_timeout_ms{10'000};
  std::chrono::milliseconds read_timeout_ms{30'000};     // one whole request
  std::chrono::milliseconds write_timeout_ms{30'000};    // one whole response
  std::chrono::milliseconds idle_timeout_ms{60'000};     // keep-alive wait for the next request
  std::chrono::milliseconds shutdown_timeout_ms{2'000};  // TLS close_notify exchange
  std::chrono::milliseconds stop_timeout_ms{5'000};      // stop() returns within this
  size_t header_bytes_max = 8 * 1024;
  size_t body_bytes_max = 1024 * 1024;
  size_t connections_max = 256;
  websocket_limits websocket;  // WebSocket routes (each session holds one connection)
};

namespace detail {
struct server_state;
}

class http_server {
 public:
  // `routes` and `tls` are moved into the server: connections may outlive this
  // object by a little (until their coroutines end), and they use both.
  // Connections run on strands of `executor`, which may be run by several threads.
  http_server(asio::any_io_executor executor, asio::ssl::context tls, router routes,
              authenticator auth, http_limits limits = {});
  // Starts a stop without waiting (see stop()).
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds, listens and starts accepting. Returns the bound port (useful with
  // port 0). An error names the address when it is in use or not local.
  result<unsigned short> listen(const asio::ip::tcp::endpoint& endpoint);

  // Stops accepting and closes idle connections at once; a connection in the
  // middle of a request finishes its response first. After half of
  // stop_timeout_ms every remaining connection is closed. Blocks at most
  // stop_timeout_ms; true when every connection has ended. Call it from a
  // thread that is not running `executor` (it waits for work done there);
  // from a coroutine use async_stop.
  bool stop();
  // Same, waiting with a timer instead of blocking the thread.
  awaitable<bool> async_stop();

  size_t connection_count() const;

 private:
  std::shared_ptr<detail::server_state> state_;
};

}  // namespace vcube::api
