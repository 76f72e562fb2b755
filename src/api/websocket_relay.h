// The two ways a WebSocket route (the VM console) is served: relayed to a
// local unix stream socket (QEMU's VNC socket), or forwarded to the node
// that serves it. Both are called from inside a websocket_handler, before
// upgrade.accept(); they accept it themselves once the other side is
// reachable, so a refusal there reaches the client as an HTTP error.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <string>

#include "api/tls_context.h"
#include "api/websocket.h"

namespace vcube::api {

// Connects to `socket_path`, then accepts the upgrade and relays RFB bytes
// both ways (binary messages to the client) until either side ends or the
// server stops (close code 1001). Refuses before the upgrade with 409
// conflict when nothing listens at socket_path (the VM is not running here).
// The returned response matters only when it did not accept.
awaitable<response> relay_to_unix_socket(websocket_upgrade& upgrade, std::string socket_path);

struct forward_target {
  std::string address;  // the node's API address (IP literal or name)
  unsigned short port = 8001;
  std::string target;  // path and query there; "" = this request's, without ?token=
  tls_trust trust;     // tls_trust::trust_ca(cluster CA PEM)
};

// Opens the route on `to` as wss:// with the caller's token (Authorization:
// Bearer), the forwarded_header and subprotocol "binary", then accepts the
// upgrade and relays both ways until either side ends or the server stops.
// Refuses before the upgrade with that node's refusal (its status and
// message), 503 when it cannot be reached, 504 past the handshake deadline,
// or 409 when this request was itself forwarded (no second hop: the nodes
// disagree about where the VM runs).
// Pass `to` as a named variable (std::move(target)): GCC 12 destroys a
// temporary of class type in a co_await expression twice.
awaitable<response> forward_websocket(websocket_upgrade& upgrade, forward_target to);

// `target` without its query parameter `token` (which forwarding sends as a header).
std::string target_without_token(std::string_view target);

}  // namespace vcube::api
