// A WebSocket client over TLS (wss://), as a coroutine on the caller's
// executor: for forwarding a console to the node that runs the VM, and for
// tests. Trusts what a tls_trust says (the cluster CA, as api::client does).
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <boost/asio/ssl.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/relay.h"
#include "api/tls_context.h"
#include "api/websocket.h"
#include "common/error.h"

namespace vcube::api {

struct websocket_client_options {
  tls_trust trust;
  std::optional<std::string> token;                          // sent as "Authorization: Bearer"
  std::vector<std::pair<std::string, std::string>> headers;  // more request headers
  std::optional<std::string> subprotocol;                    // offered, e.g. "binary"
  // handshake_timeout_ms bounds resolving, connecting, TLS and the upgrade together.
  websocket_limits limits;
};

// An open client WebSocket. Used on the executor it was opened on; `ws` uses `tls`.
struct websocket_client {
  websocket_client(asio::any_io_executor executor, asio::ssl::context context);
  asio::ssl::context tls;
  tls_websocket ws;
  std::string subprotocol;  // what the server agreed to ("" if none)
};

// Opens `url`, "wss://host[:port]/path[?query]" (port 8001 by default; IPv6
// as [addr]). Errors, each naming the URL: invalid_input for a bad URL; when
// the server answered the upgrade with an HTTP error, that error's code and
// message (401, 403, 404, 409 … keep their meaning); unavailable when it
// cannot connect or TLS is refused; timeout past handshake_timeout_ms.
// `url` and `options` must outlive the coroutine (co_await it at once).
awaitable<result<std::unique_ptr<websocket_client>>> connect_websocket(
    const std::string& url, const websocket_client_options& options);

// The error code an HTTP status stands for (the reverse of http_status()).
errc errc_for_http_status(unsigned status);

}  // namespace vcube::api
