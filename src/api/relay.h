// A byte relay between two ends (a WebSocket and a unix socket, or two
// WebSockets): what one end reads the other writes, one bounded buffer per
// direction (a slow writer stops the reading, nothing queues up), until
// either end stops; then both are closed. WebSocket message boundaries are
// not kept: RFB over WebSocket is a byte stream.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/error.h"

namespace vcube::api {

// One end of a relay. Used on one strand; at most one read and one write at a time.
class relay_end {
 public:
  virtual ~relay_end() = default;
  // At least one byte into `buffer`; an error when this end has ended (EOF included).
  virtual awaitable<result<size_t>> read_some(asio::mutable_buffer buffer) = 0;
  // All of `bytes` (one binary message on a WebSocket), within the end's write deadline.
  virtual awaitable<status> write(asio::const_buffer bytes) = 0;
  // Ends this end: a close frame on a WebSocket (once), closing on a socket.
  // Pending reads and writes then complete with an error.
  virtual awaitable<void> close() = 0;
};

// A connected unix stream socket; the end owns it.
class unix_socket_end final : public relay_end {
 public:
  unix_socket_end(asio::local::stream_protocol::socket socket,
                  std::chrono::milliseconds write_timeout_ms);
  awaitable<result<size_t>> read_some(asio::mutable_buffer buffer) override;
  awaitable<status> write(asio::const_buffer bytes) override;
  awaitable<void> close() override;

 private:
  asio::local::stream_protocol::socket socket_;
  std::chrono::milliseconds write_timeout_ms_;
};

// An open WebSocket (either role), which must outlive the end.
template <class WebSocket>
class websocket_end final : public relay_end {
 public:
  websocket_end(WebSocket& ws, std::chrono::milliseconds write_timeout_ms);
  // The code close() sends (normal by default; going_away when the server stops).
  void set_close_code(boost::beast::websocket::close_code code) { close_code_ = code; }
  awaitable<result<size_t>> read_some(asio::mutable_buffer buffer) override;
  awaitable<status> write(asio::const_buffer bytes) override;
  awaitable<void> close() override;

 private:
  WebSocket& ws_;
  std::chrono::milliseconds write_timeout_ms_;
  boost::beast::websocket::close_code close_code_ = boost::beast::websocket::close_code::normal;
  bool is_closing_ = false;
};

using tls_websocket = boost::beast::websocket::stream<
    boost::beast::ssl_stream<boost::beast::tcp_stream>>;  // a client's
using tls_websocket_ref = boost::beast::websocket::stream<
    boost::beast::ssl_stream<boost::beast::tcp_stream>&>;  // the server's (websocket_stream)
extern template class websocket_end<tls_websocket>;
extern template class websocket_end<tls_websocket_ref>;

namespace detail {
class task_group;
}

// Relays between `a` and `b` (which must outlive it) with one buffer of
// chunk_bytes per direction. Used on the ends' strand only.
class relay {
 public:
  relay(relay_end& a, relay_end& b, size_t chunk_bytes);
  ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  // Until either end stops; then closes both and returns when every
  // operation on them is done. At most once.
  awaitable<void> run();
  // Ends a running relay early (both ends are closed); nothing otherwise.
  void stop();

 private:
  awaitable<void> pump(relay_end& from, relay_end& to);
  void close_both();

  relay_end& a_;
  relay_end& b_;
  size_t chunk_bytes_;
  std::unique_ptr<detail::task_group> tasks_;  // while run() runs
};

}  // namespace vcube::api
