#include "api/websocket_test_support.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace vcube::api::testing {
namespace {

using unix_socket = asio::local::stream_protocol::socket;

auto on_error(boost::system::error_code& ec) {
  return asio::redirect_error(use_awaitable, ec);
}

std::string server_init_bytes() {
  std::string init;
  auto u16 = [&](unsigned v) {
    init += static_cast<char>(v >> 8);
    init += static_cast<char>(v & 0xff);
  };
  u16(800);
  u16(600);
  // Pixel format: 32 bpp, depth 24, little-endian, true colour, max 255, shifts 16/8/0.
  init += std::string{32, 24, 0, 1};
  u16(255);
  u16(255);
  u16(255);
  init += std::string{16, 8, 0, 0, 0, 0};
  init += std::string{0, 0, 0, 4} + "fake";
  return init;
}

}  // namespace

fake_vnc_server::fake_vnc_server(std::string path, options o)
    : path_(std::move(path)), options_(o) {
  ::unlink(path_.c_str());
  acceptor_.open();
  acceptor_.bind(asio::local::stream_protocol::endpoint(path_));
  acceptor_.listen();
  asio::co_spawn(ioc_, accept_loop(), asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

fake_vnc_server::~fake_vnc_server() {
  ioc_.stop();
  thread_.join();
  ::unlink(path_.c_str());
}

awaitable<void> fake_vnc_server::accept_loop() {
  for (;;) {
    unix_socket socket(ioc_);
    boost::system::error_code ec;
    co_await acceptor_.async_accept(socket, on_error(ec));
    if (ec)
      co_return;
    ++accepted_;
    asio::co_spawn(ioc_, session(std::move(socket)), asio::detached);
  }
}

awaitable<void> fake_vnc_server::session(unix_socket socket) {
  boost::system::error_code ec;
  std::string client_version(12, '\0');
  char choice = 0;
  char client_init = 0;
  co_await asio::async_write(socket, asio::buffer(std::string("RFB 003.008\n")), on_error(ec));
  co_await asio::async_read(socket, asio::buffer(client_version), on_error(ec));
  co_await asio::async_write(socket, asio::buffer(std::string("\x01\x01", 2)), on_error(ec));
  co_await asio::async_read(socket, asio::buffer(&choice, 1), on_error(ec));
  co_await asio::async_write(socket, asio::buffer(std::string(4, '\0')), on_error(ec));
  co_await asio::async_read(socket, asio::buffer(&client_init, 1), on_error(ec));
  co_await asio::async_write(socket, asio::buffer(server_init_bytes()), on_error(ec));
  if (ec || options_.close_after_init)
    co_return;
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    size_t n = co_await socket.async_read_some(asio::buffer(buffer), on_error(ec));
    if (ec) {
      if (ec == asio::error::eof || ec == asio::error::connection_reset)
        ++ended_by_client_;
      co_return;
    }
    co_await asio::async_write(socket, asio::buffer(buffer.data(), n), on_error(ec));
  }
}

awaitable<result<std::string>> read_exact(tls_websocket& ws, std::string& pending, size_t n) {
  while (pending.size() < n) {
    beast::flat_buffer message;
    boost::system::error_code ec;
    co_await ws.async_read(message, on_error(ec));
    if (ec)
      co_return make_error(errc::unavailable, "WebSocket read: " + ec.message());
    pending += beast::buffers_to_string(message.data());
  }
  std::string out = pending.substr(0, n);
  pending.erase(0, n);
  co_return out;
}

namespace {

unsigned be16(std::string_view bytes, size_t at) {
  return (static_cast<unsigned char>(bytes[at]) << 8) | static_cast<unsigned char>(bytes[at + 1]);
}

uint32_t be32(std::string_view bytes, size_t at) {
  return (uint32_t{be16(bytes, at)} << 16) | be16(bytes, at + 2);
}

awaitable<status> send(tls_websocket& ws, std::string bytes) {
  boost::system::error_code ec;
  co_await ws.async_write(asio::buffer(bytes), on_error(ec));
  if (ec)
    co_return make_error(errc::unavailable, "WebSocket write: " + ec.message());
  co_return ok_status();
}

// Security: the server's list must offer None (1); then SecurityResult 0.
awaitable<status> negotiate_security(tls_websocket& ws, std::string& pending) {
  auto count = co_await read_exact(ws, pending, 1);
  if (!count)
    co_return count.err();
  if ((*count)[0] == 0)
    co_return make_error(errc::unavailable, "RFB: the server refused the connection");
  auto types = co_await read_exact(ws, pending, static_cast<unsigned char>((*count)[0]));
  if (!types)
    co_return types.err();
  if (types->find('\x01') == std::string::npos)
    co_return make_error(errc::unavailable, "RFB: security type None not offered");
  if (auto sent = co_await send(ws, std::string(1, '\x01')); !sent)
    co_return sent;
  auto outcome = co_await read_exact(ws, pending, 4);
  if (!outcome)
    co_return outcome.err();
  if (be32(*outcome, 0) != 0)
    co_return make_error(errc::unavailable, "RFB: SecurityResult is not OK");
  co_return ok_status();
}

}  // namespace

awaitable<result<rfb_server_init>> rfb_handshake(tls_websocket& ws) {
  std::string pending;
  rfb_server_init init;
  auto version = co_await read_exact(ws, pending, 12);
  if (!version)
    co_return version.err();
  init.version = *version;
  if (auto sent = co_await send(ws, "RFB 003.008\n"); !sent)
    co_return sent.err();
  if (auto security = co_await negotiate_security(ws, pending); !security)
    co_return security.err();
  if (auto sent = co_await send(ws, std::string(1, '\x01')); !sent)  // ClientInit: shared
    co_return sent.err();
  auto server_init = co_await read_exact(ws, pending, 24);
  if (!server_init)
    co_return server_init.err();
  init.width = be16(*server_init, 0);
  init.height = be16(*server_init, 2);
  auto name = co_await read_exact(ws, pending, be32(*server_init, 20));
  if (!name)
    co_return name.err();
  init.name = *name;
  co_return init;
}

std::string make_socket_dir() {
  std::string pattern = "/tmp/vcube-ws-XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return pattern;
}

}  // namespace vcube::api::testing
