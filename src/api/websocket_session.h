// The server's side of a WebSocket route: from an upgrade request to the end
// of the handler. Internal to http_server.
#pragma once

#include "api/server_state.h"

namespace vcube::api::detail {

struct upgrade_result {
  enum kind {
    not_websocket,  // the route is a plain one: dispatch the request as usual
    refused,        // send `refusal`, then close the connection
    done,           // the handler took the connection (accepted or tried to): close it
  } what = not_websocket;
  response refusal;
};

// Routes and authorises an upgrade request, applies the session cap, runs the
// WebSocket handler, and closes the WebSocket if the handler left it open.
awaitable<upgrade_result> serve_upgrade(connection& c, const http_request& request);

}  // namespace vcube::api::detail
