#include "api/relay.h"

#include <spdlog/spdlog.h>

#include <cassert>
#include <vector>

#include "api/task_group.h"

namespace vcube::api {
namespace {

auto on_error(boost::system::error_code& ec) {
  return asio::redirect_error(use_awaitable, ec);
}

error ended(std::string_view what, const boost::system::error_code& ec) {
  return make_error(errc::unavailable, std::string(what) + ": " + ec.message());
}

}  // namespace

unix_socket_end::unix_socket_end(asio::local::stream_protocol::socket socket,
                                 std::chrono::milliseconds write_timeout_ms)
    : socket_(std::move(socket)), write_timeout_ms_(write_timeout_ms) {}

awaitable<result<size_t>> unix_socket_end::read_some(asio::mutable_buffer buffer) {
  boost::system::error_code ec;
  size_t n = co_await socket_.async_read_some(buffer, on_error(ec));
  if (ec)
    co_return ended("unix socket read", ec);
  co_return n;
}

awaitable<status> unix_socket_end::write(asio::const_buffer bytes) {
  boost::system::error_code ec;
  detail::deadline_guard guard(socket_.get_executor(), write_timeout_ms_, [this] {
    boost::system::error_code ignored;
    socket_.close(ignored);
  });
  co_await asio::async_write(socket_, bytes, on_error(ec));
  if (guard.has_expired())
    co_return make_error(errc::timeout, "unix socket write: not done within " +
                                            std::to_string(write_timeout_ms_.count()) + " ms");
  if (ec)
    co_return ended("unix socket write", ec);
  co_return ok_status();
}

awaitable<void> unix_socket_end::close() {
  boost::system::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  co_return;
}

template <class WebSocket>
websocket_end<WebSocket>::websocket_end(WebSocket& ws, std::chrono::milliseconds write_timeout_ms)
    : ws_(ws), write_timeout_ms_(write_timeout_ms) {}

template <class WebSocket>
awaitable<result<size_t>> websocket_end<WebSocket>::read_some(asio::mutable_buffer buffer) {
  boost::system::error_code ec;
  for (;;) {
    size_t n = co_await ws_.async_read_some(buffer, on_error(ec));
    if (ec)
      co_return ended("WebSocket read", ec);
    if (n > 0)
      co_return n;
    // An empty message: nothing to relay; wait for the next one.
  }
}

template <class WebSocket>
awaitable<status> websocket_end<WebSocket>::write(asio::const_buffer bytes) {
  boost::system::error_code ec;
  // Beast's idle timeout watches reads only; a peer that stops reading
  // would hold this write for ever.
  detail::deadline_guard guard(ws_.get_executor(), write_timeout_ms_,
                               [this] { boost::beast::get_lowest_layer(ws_).close(); });
  co_await ws_.async_write(bytes, on_error(ec));
  if (guard.has_expired())
    co_return make_error(errc::timeout, "WebSocket write: not done within " +
                                            std::to_string(write_timeout_ms_.count()) + " ms");
  if (ec)
    co_return ended("WebSocket write", ec);
  co_return ok_status();
}

template <class WebSocket>
awaitable<void> websocket_end<WebSocket>::close() {
  // Beast allows one close per stream; the peer's own close needs none.
  if (is_closing_ || !ws_.is_open())
    co_return;
  is_closing_ = true;
  boost::system::error_code ec;
  co_await ws_.async_close(close_code_, on_error(ec));
  if (ec)
    boost::beast::get_lowest_layer(ws_).close();
}

template class websocket_end<tls_websocket>;
template class websocket_end<tls_websocket_ref>;

relay::relay(relay_end& a, relay_end& b, size_t chunk_bytes)
    : a_(a), b_(b), chunk_bytes_(chunk_bytes) {
  assert(chunk_bytes > 0);
}

relay::~relay() = default;

awaitable<void> relay::run() {
  assert(!tasks_);
  tasks_ = std::make_unique<detail::task_group>(co_await asio::this_coro::executor);
  tasks_->spawn(pump(a_, b_));
  tasks_->spawn(pump(b_, a_));
  co_await tasks_->wait();
  tasks_.reset();
}

void relay::stop() {
  if (tasks_)
    close_both();
}

void relay::close_both() {
  tasks_->spawn(a_.close());
  tasks_->spawn(b_.close());
}

awaitable<void> relay::pump(relay_end& from, relay_end& to) {
  std::vector<char> buffer(chunk_bytes_);
  for (;;) {
    auto n = co_await from.read_some(asio::buffer(buffer));
    if (!n) {
      spdlog::debug("api: relay ends: {}", n.err().message);
      break;
    }
    auto written = co_await to.write(asio::buffer(buffer.data(), *n));
    if (!written) {
      spdlog::debug("api: relay ends: {}", written.err().message);
      break;
    }
  }
  // Either way the session is over for both ends.
  close_both();
}

}  // namespace vcube::api
