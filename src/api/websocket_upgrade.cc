#include <cassert>

#include "api/server_state.h"
#include "api/websocket.h"

namespace vcube::api {
namespace {

// True when the comma-separated Sec-WebSocket-Protocol list holds `name`.
bool offers_subprotocol(const http_request& request, std::string_view name) {
  std::string_view list = to_std(request[http::field::sec_websocket_protocol]);
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item == name)
      return true;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return false;
}

}  // namespace

websocket_upgrade::websocket_upgrade(detail::connection& c, const http_request& request,
                                     std::optional<std::string> token)
    : connection_(c), request_(request), token_(std::move(token)) {}

websocket_upgrade::~websocket_upgrade() {
  connection_.on_stop = nullptr;
}

bool websocket_upgrade::is_forwarded() const {
  return request_.find(beast::string_view(forwarded_header.data(), forwarded_header.size())) !=
         request_.end();
}

const websocket_limits& websocket_upgrade::limits() const {
  return connection_.server->limits.websocket;
}

awaitable<status> websocket_upgrade::accept() {
  assert(!stream_);
  if (connection_.server->is_stopping)
    co_return make_error(errc::unavailable, "this node's API is stopping; retry on another node");
  const websocket_limits& l = limits();
  stream_.emplace(connection_.stream);
  websocket_stream& ws = *stream_;
  // The WebSocket's own timeouts replace the TCP stream's from here on.
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout{l.handshake_timeout_ms, l.idle_timeout_ms, true});
  ws.read_message_max(l.message_bytes_max);
  ws.binary(true);
  ws.auto_fragment(false);
  if (offers_subprotocol(request_, "binary"))
    subprotocol_ = "binary";
  ws.set_option(websocket::stream_base::decorator(
      [protocol = subprotocol_](websocket::response_type& response) {
        response.set(http::field::server, "vcube");
        if (!protocol.empty())
          response.set(http::field::sec_websocket_protocol, protocol);
      }));
  beast::error_code ec;
  co_await ws.async_accept(request_, asio::redirect_error(use_awaitable, ec));
  if (ec)
    co_return make_error(
        errc::unavailable,
        "WebSocket handshake with " + connection_.remote_address + " failed: " + ec.message());
  ws.set_option(websocket::stream_base::timeout{l.close_timeout_ms, l.idle_timeout_ms, true});
  is_accepted_ = true;
  co_return ok_status();
}

websocket_stream& websocket_upgrade::stream() {
  assert(stream_);
  return *stream_;
}

void websocket_upgrade::set_on_stop(std::function<void()> fn) {
  connection_.on_stop = std::move(fn);
}

}  // namespace vcube::api
