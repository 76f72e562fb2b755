#include <gtest/gtest.h>

#include "api/websocket_fixture.h"

namespace vcube::api::testing {
namespace {

const std::string console_path = "/api/v1/vms/vm1/console";

awaitable<status> send_bytes(tls_websocket& ws, std::string bytes) {
  boost::system::error_code ec;
  co_await ws.async_write(asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
  if (ec)
    co_return make_error(errc::unavailable, ec.message());
  co_return ok_status();
}

// Sends `bytes` and reads the same number back (the fake server echoes).
awaitable<result<std::string>> echo(tls_websocket& ws, std::string bytes) {
  if (auto sent = co_await send_bytes(ws, bytes); !sent)
    co_return sent.err();
  std::string pending;
  co_return co_await read_exact(ws, pending, bytes.size());
}

awaitable<status> close_socket(tls_websocket& ws) {
  boost::system::error_code ec;
  co_await ws.async_close(websocket::close_code::normal, asio::redirect_error(use_awaitable, ec));
  if (ec)
    co_return make_error(errc::unavailable, ec.message());
  co_return ok_status();
}

TEST_F(websocket_test, RfbHandshakeWithTheTokenInTheQuery) {
  fake_vnc_server vnc(vnc_path());
  unsigned short port = start_relay();
  auto c = connect(port, console_path + "?token=" + token_for("viewer"), std::nullopt);
  ASSERT_TRUE(c.ok()) << c.err().message;
  EXPECT_EQ((*c)->subprotocol, "binary");
  auto init = run(rfb_handshake((*c)->ws));
  ASSERT_TRUE(init.ok()) << init.err().message;
  EXPECT_EQ(init->version, "RFB 003.008\n");
  EXPECT_EQ(init->width, 800u);
  EXPECT_EQ(init->height, 600u);
  EXPECT_EQ(init->name, "fake");
}

TEST_F(websocket_test, BearerHeaderAndCookieAuthorise) {
  fake_vnc_server vnc(vnc_path());
  unsigned short port = start_relay();
  auto bearer = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(bearer.ok()) << bearer.err().message;
  EXPECT_TRUE(run(rfb_handshake((*bearer)->ws)).ok());
  websocket_client_options with_cookie;
  with_cookie.headers = {{"Cookie", "vcube_token=" + token_for("viewer")}};
  auto cookie = connect(port, console_path, std::nullopt, with_cookie);
  ASSERT_TRUE(cookie.ok()) << cookie.err().message;
  EXPECT_TRUE(run(rfb_handshake((*cookie)->ws)).ok());
}

TEST_F(websocket_test, CookieFromAnotherOriginIsRefused) {
  fake_vnc_server vnc(vnc_path());
  unsigned short port = start_relay();
  websocket_client_options cross;
  cross.headers = {{"Cookie", "vcube_token=" + token_for("viewer")},
                   {"Origin", "https://evil.example"}};
  auto c = connect(port, console_path, std::nullopt, cross);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::forbidden) << c.err().message;
  EXPECT_EQ(vnc.accepted(), 0);
}

TEST_F(websocket_test, RefusalsComeBeforeTheUpgrade) {
  fake_vnc_server vnc(vnc_path());
  unsigned short port = start_relay();
  auto none = connect(port, console_path, std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.err().code, errc::unauthorized) << none.err().message;
  EXPECT_NE(none.err().message.find("authentication required"), std::string::npos);
  auto bad = connect(port, console_path + "?token=forged", std::nullopt);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.err().code, errc::unauthorized);
  auto viewer = connect(port, "/api/v1/admin/ws", token_for("viewer"));
  ASSERT_FALSE(viewer.ok());
  EXPECT_EQ(viewer.err().code, errc::forbidden);
  auto missing = connect(port, "/api/v1/vms/nope/console", token_for("viewer"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.err().code, errc::not_found);
  EXPECT_NE(missing.err().message.find("no VM named nope"), std::string::npos);
  EXPECT_EQ(vnc.accepted(), 0);
}

TEST_F(websocket_test, PlainGetOnAWebSocketRouteIs426) {
  unsigned short port = start_relay();
  auto c =
      client::create("https://127.0.0.1:" + std::to_string(port), tls_trust::trust_ca(pki_.ca_pem));
  ASSERT_TRUE(c.ok());
  auto r = (*c)->request(http::verb::get, console_path, std::nullopt, token_for("viewer"));
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->status, 426u);
  EXPECT_EQ(r->header("Upgrade"), "websocket");
  auto health = (*c)->request(http::verb::get, "/api/v1/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200u);
}

TEST_F(websocket_test, NoVncSocketIsAConflict) {
  unsigned short port = start_relay();
  auto c = connect(port, console_path, token_for("viewer"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::conflict);
  EXPECT_NE(c.err().message.find(vnc_path()), std::string::npos) << c.err().message;
}

TEST_F(websocket_test, BytesRelayBothWaysInBoundedChunks) {
  fake_vnc_server vnc(vnc_path());
  http_limits limits;
  limits.websocket.relay_chunk_bytes = 4096;
  unsigned short port = start_relay(limits);
  auto c = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  std::string payload(300 * 1000, '\0');
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(i * 7);
  auto back = run(echo((*c)->ws, payload));
  ASSERT_TRUE(back.ok()) << back.err().message;
  EXPECT_TRUE(*back == payload);
}

TEST_F(websocket_test, VncServerClosingEndsTheWebSocket) {
  fake_vnc_server vnc(vnc_path(), {.close_after_init = true});
  unsigned short port = start_relay();
  auto c = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  auto next = run(read_message((*c)->ws));
  ASSERT_FALSE(next.ok());
  EXPECT_EQ((*c)->ws.reason().code, websocket::close_code::normal);
  EXPECT_TRUE(wait_for([&] { return a_->connection_count() == 0; }));
}

TEST_F(websocket_test, ClientClosingEndsTheUnixSide) {
  fake_vnc_server vnc(vnc_path());
  unsigned short port = start_relay();
  auto c = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  ASSERT_TRUE(run(close_socket((*c)->ws)).ok());
  EXPECT_TRUE(wait_for([&] { return vnc.ended_by_client() == 1; }));
  EXPECT_TRUE(wait_for([&] { return a_->connection_count() == 0; }));
}

TEST_F(websocket_test, MessageOverTheLimitClosesTheSession) {
  fake_vnc_server vnc(vnc_path());
  http_limits limits;
  limits.websocket.message_bytes_max = 1024;
  unsigned short port = start_relay(limits);
  auto c = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  ASSERT_TRUE(run(send_bytes((*c)->ws, std::string(4096, 'x'))).ok());
  auto next = run(read_message((*c)->ws));
  ASSERT_FALSE(next.ok());
  EXPECT_EQ((*c)->ws.reason().code, websocket::close_code::too_big);
}

TEST_F(websocket_test, SessionCapRefusesWith503) {
  fake_vnc_server vnc(vnc_path());
  http_limits limits;
  limits.websocket.sessions_max = 1;
  unsigned short port = start_relay(limits);
  auto first = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(first.ok()) << first.err().message;
  auto second = connect(port, console_path, token_for("viewer"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.err().code, errc::unavailable);
  EXPECT_NE(second.err().message.find("too many WebSocket sessions"), std::string::npos);
  ASSERT_TRUE(run(close_socket((*first)->ws)).ok());
  EXPECT_TRUE(wait_for([&] { return a_->connection_count() == 0; }));
  EXPECT_TRUE(connect(port, console_path, token_for("viewer")).ok());
}

TEST_F(websocket_test, StopClosesSessionsWithGoingAway) {
  fake_vnc_server vnc(vnc_path());
  unsigned short port = start_relay();
  auto c = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  auto start = std::chrono::steady_clock::now();
  // The client must be reading to answer the close handshake.
  std::optional<result<std::string>> next;
  asio::co_spawn(client_ioc_, store_outcome(read_message((*c)->ws), &next), asio::detached);
  std::thread stopper([&] { EXPECT_TRUE(a_->stop()); });
  client_ioc_.restart();
  while (!next && std::chrono::steady_clock::now() < start + std::chrono::seconds(10))
    client_ioc_.run_one_for(std::chrono::milliseconds(50));
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->ok());
  EXPECT_EQ((*c)->ws.reason().code, websocket::close_code::going_away);
  EXPECT_TRUE(wait_for([&] { return vnc.ended_by_client() == 1; }));
}

TEST_F(websocket_test, SilentClientIsDroppedAfterTheIdleTimeout) {
  fake_vnc_server vnc(vnc_path());
  http_limits limits;
  limits.websocket.idle_timeout_ms = std::chrono::milliseconds(300);
  unsigned short port = start_relay(limits);
  auto c = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  // Nobody reads on the client from now on, so the server's ping gets no pong.
  EXPECT_TRUE(wait_for([&] { return a_->connection_count() == 0; }));
  EXPECT_TRUE(wait_for([&] { return vnc.ended_by_client() == 1; }));
}

TEST_F(websocket_test, ResponsiveClientOutlivesTheIdleTimeout) {
  fake_vnc_server vnc(vnc_path());
  http_limits limits;
  limits.websocket.idle_timeout_ms = std::chrono::milliseconds(200);
  unsigned short port = start_relay(limits);
  auto c = connect(port, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  std::atomic<int> pings{0};
  (*c)->ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping)
      ++pings;
  });
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  // A reading client answers pings; several idle periods pass.
  std::optional<result<std::string>> got;
  asio::co_spawn(client_ioc_, store_outcome(read_message((*c)->ws), &got), asio::detached);
  client_ioc_.restart();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pings < 3 && std::chrono::steady_clock::now() < until)
    client_ioc_.run_one_for(std::chrono::milliseconds(50));
  EXPECT_GE(pings, 3);
  EXPECT_FALSE(got.has_value());
  ASSERT_TRUE(run(send_bytes((*c)->ws, "still here")).ok());
  client_ioc_.restart();
  while (!got && std::chrono::steady_clock::now() < until)
    client_ioc_.run_one_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(got && got->ok());
  EXPECT_EQ(**got, "still here");
}

TEST(target_without_token, DropsOnlyTheTokenParameter) {
  EXPECT_EQ(target_without_token("/a/b?token=x"), "/a/b");
  EXPECT_EQ(target_without_token("/a/b?x=1&token=y&z=2"), "/a/b?x=1&z=2");
  EXPECT_EQ(target_without_token("/a/b?tokens=1"), "/a/b?tokens=1");
  EXPECT_EQ(target_without_token("/a/b"), "/a/b");
}

}  // namespace
}  // namespace vcube::api::testing
