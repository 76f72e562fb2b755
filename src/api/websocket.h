// WebSocket routes of the API server. A route registered with
// router::add_websocket receives the upgrade request (routed, authenticated,
// role-checked like any other) and a websocket_upgrade; the handler either
// returns a response without accepting (404, 403, 409 …: sent as plain HTTP)
// or calls accept() and then owns the WebSocket until it returns. The
// connection closes when the handler returns.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "api/handler.h"
#include "common/error.h"

namespace vcube::api {

namespace websocket = beast::websocket;

struct websocket_limits {
  std::chrono::milliseconds handshake_timeout_ms{10'000};  // opening handshake (both roles)
  std::chrono::milliseconds close_timeout_ms{1'000};       // closing handshake
  // Nothing received for half of this: a ping; nothing for all of it: closed.
  std::chrono::milliseconds idle_timeout_ms{60'000};
  std::chrono::milliseconds write_timeout_ms{30'000};  // one message
  size_t message_bytes_max = 1024 * 1024;              // one received message
  size_t relay_chunk_bytes = 64 * 1024;  // relay buffer per direction = largest message sent
  size_t sessions_max = 32;              // concurrent WebSocket sessions per server
};

// The server's side: a WebSocket over the connection's TLS stream.
using websocket_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

// The header a forwarding node adds, so the receiving node does not forward again.
inline constexpr std::string_view forwarded_header = "X-Vcube-Forwarded";

namespace detail {
struct connection;
}

// Lives on the connection's coroutine frame for the handler's duration; used
// on the connection's strand only.
class websocket_upgrade {
 public:
  websocket_upgrade(detail::connection& c, const http_request& request,
                    std::optional<std::string> token);
  ~websocket_upgrade();
  websocket_upgrade(const websocket_upgrade&) = delete;
  websocket_upgrade& operator=(const websocket_upgrade&) = delete;

  // The caller's token (Bearer header, vcube_token cookie or ?token=), to
  // forward to another node.
  const std::optional<std::string>& token() const { return token_; }
  // True when another node forwarded this request (forwarded_header).
  bool is_forwarded() const;
  const websocket_limits& limits() const;
  const http_request& request() const { return request_; }

  // Answers 101 (with the subprotocol "binary" when the client offers it) and
  // sets the limits. unavailable when the server is stopping; otherwise the
  // handshake's error (client gone, deadline). At most once.
  awaitable<status> accept();
  bool is_accepted() const { return is_accepted_; }
  // accept() was called (whatever its outcome): no HTTP response can follow.
  bool is_attempted() const { return stream_.has_value(); }
  websocket_stream& stream();  // after a successful accept()
  // The subprotocol agreed ("binary" or "").
  const std::string& subprotocol() const { return subprotocol_; }

  // While set, the server calls `fn` (on this strand) when it stops, instead
  // of closing the connection at once; `fn` should end the session promptly.
  // Past half of the stop bound the connection is closed anyway. Clear it
  // (nullptr) before whatever it refers to dies.
  void set_on_stop(std::function<void()> fn);

 private:
  detail::connection& connection_;
  const http_request& request_;
  std::optional<std::string> token_;
  std::optional<websocket_stream> stream_;
  std::string subprotocol_;
  bool is_accepted_ = false;
};

// A WebSocket route's handler. Before accept(): the returned response is
// sent (use error_response). After accept(): the return value is ignored.
using websocket_handler = std::function<awaitable<response>(request_context&, websocket_upgrade&)>;

}  // namespace vcube::api
