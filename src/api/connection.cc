#include <spdlog/spdlog.h>

#include <array>

#include "api/dispatch.h"
#include "api/server_state.h"
#include "api/websocket_session.h"

namespace vcube::api::detail {
namespace {

// How a connection goes on after a request.
enum class next {
  keep_alive,  // read the next request
  close,       // TLS close_notify, then close
  drain,       // a refused request may still be arriving: half-close, discard, close
  abort,       // the peer is gone or too slow: just close
};

auto on_error(beast::error_code& ec) {
  return asio::redirect_error(use_awaitable, ec);
}

template <class Message>
awaitable<beast::error_code> write(connection& c, Message& message) {
  beast::error_code ec;
  beast::get_lowest_layer(c.stream).expires_after(c.server->limits.write_timeout_ms);
  co_await http::async_write(c.stream, message, on_error(ec));
  co_return ec;
}

// Errors that are not about the request's content: the peer closed, reset,
// or was too slow. Everything in Beast's HTTP category but these is a bad request.
bool is_peer_gone(const beast::error_code& ec) {
  return ec.category() != http::make_error_code(http::error::bad_method).category() ||
         ec == http::error::end_of_stream || ec == http::error::partial_message;
}

// Answers a request that could not be read (too large, malformed) and closes.
awaitable<next> refuse_unreadable(connection& c, const beast::error_code& ec) {
  if (is_peer_gone(ec)) {
    spdlog::debug("api: connection from {} ended: {}", c.remote_address, ec.message());
    co_return next::abort;
  }
  const http_limits& limits = c.server->limits;
  response r;
  if (ec == http::error::header_limit) {
    r = error_response(
        make_error(errc::too_large,
                   "request header is over " + std::to_string(limits.header_bytes_max) + " bytes"));
    r.status = 431;
  } else if (ec == http::error::body_limit) {
    r = error_response(
        make_error(errc::too_large,
                   "request body is over " + std::to_string(limits.body_bytes_max) + " bytes"));
  } else {
    r = error_response(make_error(errc::invalid_input, "malformed HTTP request: " + ec.message()));
  }
  auto message = to_http_response(r, 11, false);
  if (co_await write(c, message))
    co_return next::abort;
  co_return next::drain;
}

awaitable<beast::error_code> read_request(connection& c, beast::flat_buffer& buffer,
                                          http::request_parser<http::string_body>& parser,
                                          bool is_first) {
  const http_limits& limits = c.server->limits;
  auto& tcp = beast::get_lowest_layer(c.stream);
  beast::error_code ec;
  tcp.expires_after(is_first ? limits.read_timeout_ms : limits.idle_timeout_ms);
  co_await http::async_read_header(c.stream, buffer, parser, on_error(ec));
  if (ec)
    co_return ec;
  tcp.expires_after(limits.read_timeout_ms);
  if (parser.get()[http::field::expect] == "100-continue") {
    http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
    if (auto write_ec = co_await write(c, go_on))
      co_return write_ec;
    tcp.expires_after(limits.read_timeout_ms);
  }
  co_await http::async_read(c.stream, buffer, parser, on_error(ec));
  co_return ec;
}

awaitable<next> serve_request(connection& c, beast::flat_buffer& buffer, bool is_first) {
  const http_limits& limits = c.server->limits;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes_max));
  parser.body_limit(limits.body_bytes_max);
  if (auto ec = co_await read_request(c, buffer, parser, is_first))
    co_return co_await refuse_unreadable(c, ec);
  c.is_busy = true;
  http_request request = parser.release();
  std::optional<response> r;
  bool keep_alive = request.keep_alive();
  if (websocket::is_upgrade(request)) {
    upgrade_result upgrade = co_await serve_upgrade(c, request);
    if (upgrade.what == upgrade_result::done)
      co_return next::abort;  // the WebSocket session ended the connection
    if (upgrade.what == upgrade_result::refused) {
      r = std::move(upgrade.refusal);
      keep_alive = false;  // the client may have sent more than the request
    }
  }
  if (!r)
    r = co_await dispatch(c.server->routes, c.server->auth, request, c.remote_address);
  keep_alive = keep_alive && !c.server->is_stopping;
  auto message = to_http_response(*r, request.version(), keep_alive);
  auto ec = co_await write(c, message);
  c.is_busy = false;
  if (ec) {
    spdlog::debug("api: writing to {} failed: {}", c.remote_address, ec.message());
    co_return next::abort;
  }
  co_return keep_alive ? next::keep_alive : next::close;
}

// Closing at once with unread input makes the kernel send a reset, which can
// destroy the error response before the client reads it; so stop sending and
// read what is still coming, within bounds.
awaitable<void> drain(connection& c) {
  const http_limits& limits = c.server->limits;
  auto& tcp = beast::get_lowest_layer(c.stream);
  beast::error_code ec;
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  tcp.expires_after(limits.shutdown_timeout_ms);
  std::array<char, 16 * 1024> sink;
  size_t left = 2 * (limits.body_bytes_max + limits.header_bytes_max);
  while (!ec && left > 0) {
    size_t n = co_await tcp.async_read_some(asio::buffer(sink), on_error(ec));
    left -= std::min(left, n);
  }
}

}  // namespace

connection::connection(asio::ip::tcp::socket socket, std::shared_ptr<server_state> s)
    : stream(std::move(socket), s->tls), server(std::move(s)) {
  beast::error_code ec;
  auto endpoint = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
  remote_address = ec ? "unknown" : endpoint.address().to_string();
}

connection::~connection() {
  server->remove(id);
}

void connection::close(bool force) {
  if (on_stop && !force) {
    auto ask_to_end = on_stop;  // it may clear on_stop
    ask_to_end();
    return;
  }
  if (is_busy && !force)
    return;
  beast::get_lowest_layer(stream).close();
}

awaitable<void> run_connection(std::shared_ptr<connection> c) {
  const http_limits& limits = c->server->limits;
  auto& tcp = beast::get_lowest_layer(c->stream);
  beast::error_code ec;
  tcp.expires_after(limits.handshake_timeout_ms);
  co_await c->stream.async_handshake(asio::ssl::stream_base::server, on_error(ec));
  if (ec) {
    spdlog::debug("api: TLS handshake with {} failed: {}", c->remote_address, ec.message());
    co_return;
  }
  beast::flat_buffer buffer;
  next outcome = next::keep_alive;
  for (bool is_first = true; outcome == next::keep_alive && !c->server->is_stopping;
       is_first = false)
    outcome = co_await serve_request(*c, buffer, is_first);
  if (outcome == next::drain) {
    co_await drain(*c);
  } else if (outcome == next::close) {
    tcp.expires_after(limits.shutdown_timeout_ms);
    co_await c->stream.async_shutdown(on_error(ec));
  }
  tcp.close();
}

}  // namespace vcube::api::detail
