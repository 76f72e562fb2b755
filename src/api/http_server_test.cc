#include <gtest/gtest.h>

#include "api/test_server.h"

namespace vcube::api::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

long long ms_since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

std::string get_request(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

TEST_F(server_test, CaTrustedClientCompletesTheHandshake) {
  start();
  auto c = make_client();
  auto r = c->request(http::verb::get, "/api/v1/health");
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body["status"], "ok");
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(c->peer_fingerprint(), pki_.fingerprint);
}

TEST_F(server_test, ClientPinnedToAnotherFingerprintIsRefused) {
  start();
  test_pki other = make_test_pki("other");
  auto c = make_client(tls_trust::pin(other.fingerprint));
  auto r = c->request(http::verb::get, "/api/v1/health");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("not the pinned"), std::string::npos) << r.err().message;
  auto pinned = make_client(tls_trust::pin(pki_.fingerprint));
  EXPECT_TRUE(pinned->request(http::verb::get, "/api/v1/health").ok());
}

TEST_F(server_test, ClientTrustingAnotherCaIsRefused) {
  start();
  auto c = make_client(tls_trust::trust_ca(make_test_pki("other").ca_pem));
  auto r = c->request(http::verb::get, "/api/v1/health");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("TLS handshake with " + url()), std::string::npos)
      << r.err().message;
}

TEST_F(server_test, InsecureFirstContactRecordsAndPinsTheFingerprint) {
  start();
  auto c = make_client(tls_trust::insecure());
  ASSERT_TRUE(c->request(http::verb::get, "/api/v1/health").ok());
  EXPECT_EQ(c->peer_fingerprint(), pki_.fingerprint);
}

TEST_F(server_test, RoutesWithParamsAndQuery) {
  start();
  auto c = make_client();
  auto r = c->request(http::verb::get, "/api/v1/domain/network/l%20an?base_version=7&stage=1",
                      std::nullopt, token_for("viewer"));
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body["params"], json({{"kind", "network"}, {"name", "l an"}}));
  EXPECT_EQ(r->body["query"], json({{"base_version", "7"}, {"stage", "1"}}));
  EXPECT_EQ(r->body["user"], "viewer");
}

TEST_F(server_test, UnknownPathIs404AndWrongMethodIs405) {
  start();
  auto c = make_client();
  auto missing = c->request(http::verb::get, "/api/v1/nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404u);
  EXPECT_EQ(missing->body["error"]["code"], "not_found");
  auto wrong = c->request(http::verb::delete_, "/api/v1/health");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405u);
  EXPECT_EQ(wrong->header("Allow"), "GET");
}

TEST_F(server_test, MissingOrBadTokenIs401AndViewerIsForbiddenFromAdminRoutes) {
  start();
  auto c = make_client();
  auto missing = c->request(http::verb::get, "/api/v1/domain/a/b");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 401u);
  EXPECT_EQ(missing->body["error"]["message"],
            "authentication required: log in with POST /api/v1/login");
  auto bad = c->request(http::verb::get, "/api/v1/domain/a/b", std::nullopt, "forged");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 401u);
  EXPECT_EQ(bad->body["error"]["code"], "unauthorized");
  auto expired = c->request(http::verb::get, "/api/v1/domain/a/b", std::nullopt,
                            signer_.issue("admin", std::time(nullptr) - 1));
  EXPECT_EQ(expired->body["error"]["message"], "token expired, log in again");
  auto viewer = c->request(http::verb::post, "/api/v1/backup", json::object(), token_for("viewer"));
  ASSERT_TRUE(viewer.ok());
  EXPECT_EQ(viewer->status, 403u);
  auto admin = c->request(http::verb::post, "/api/v1/backup", json::object(), token_for("admin"));
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->status, 200u);
}

TEST_F(server_test, MalformedJsonIs400) {
  start();
  raw_connection raw(port_);
  ASSERT_FALSE(raw.handshake());
  std::string body = "{\"value\": ";
  ASSERT_FALSE(
      raw.send("PUT /api/v1/domain/network/lan HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
               token_for("admin") + "\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body));
  http::response<http::string_body> r;
  ASSERT_FALSE(raw.read(r));
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(json::parse(r.body())["error"]["code"], "invalid_input");

  auto c = make_client();
  auto array = c->request(http::verb::put, "/api/v1/domain/network/lan", json::array({1}),
                          token_for("admin"));
  EXPECT_EQ(array->status, 400u);
  auto good = c->request(http::verb::put, "/api/v1/domain/network/lan", json{{"mtu", 1500}},
                         token_for("admin"));
  EXPECT_EQ(good->body["body"]["mtu"], 1500);
}

TEST_F(server_test, BodyOverOneMebibyteIs413AndTheServerKeepsServing) {
  start();
  auto c = make_client();
  json big = {{"value", std::string(1100 * 1024, 'x')}};
  auto r = c->request(http::verb::put, "/api/v1/domain/network/lan", big, token_for("admin"));
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->status, 413u);
  EXPECT_EQ(r->body["error"]["code"], "too_large");
  auto next = c->request(http::verb::get, "/api/v1/health");
  ASSERT_TRUE(next.ok()) << next.err().message;
  EXPECT_EQ(next->status, 200u);
}

TEST_F(server_test, HeaderOverEightKibibytesIsRejected) {
  start();
  auto c = make_client();
  auto r = c->request(http::verb::get, "/api/v1/health", std::nullopt, std::string(9000, 't'));
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->status, 431u);
  EXPECT_EQ(r->body["error"]["code"], "too_large");
  EXPECT_EQ(c->request(http::verb::get, "/api/v1/health")->status, 200u);
}

TEST_F(server_test, ThrowingHandlerIs500AndTheServerKeepsServing) {
  start();
  auto c = make_client();
  auto r = c->request(http::verb::get, "/api/v1/throw");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500u);
  EXPECT_EQ(r->body["error"]["code"], "internal");
  EXPECT_EQ(c->request(http::verb::get, "/api/v1/health")->status, 200u);
}

TEST_F(server_test, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  raw_connection raw(port_);
  ASSERT_FALSE(raw.handshake());
  // Pipelined: all three are sent before any response is read.
  ASSERT_FALSE(raw.send(get_request("/api/v1/health") + get_request("/api/v1/nothing") +
                        get_request("/api/v1/health")));
  unsigned expected[] = {200, 404, 200};
  for (unsigned status : expected) {
    http::response<http::string_body> r;
    ASSERT_FALSE(raw.read(r));
    EXPECT_EQ(r.result_int(), status);
    EXPECT_TRUE(r.keep_alive());
  }
  EXPECT_EQ(server_->connection_count(), 1u);

  auto c = make_client();
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(c->request(http::verb::get, "/api/v1/health")->status, 200u);
  EXPECT_EQ(server_->connection_count(), 2u);
}

TEST_F(server_test, SlowClientIsCutByTheReadDeadline) {
  http_limits limits;
  limits.read_timeout_ms = milliseconds(200);
  limits.idle_timeout_ms = milliseconds(200);
  start(limits);
  raw_connection raw(port_);
  ASSERT_FALSE(raw.handshake());
  ASSERT_FALSE(raw.send("GET /api/v1/health HTTP/1.1\r\nHost: t\r\n"));  // never finished
  auto start_time = steady_clock::now();
  auto ec = raw.read_until_closed(3000);
  EXPECT_NE(ec, beast::error::timeout) << "the server did not close the connection";
  EXPECT_GE(ms_since(start_time), 150);
  EXPECT_LT(ms_since(start_time), 2000);
  EXPECT_TRUE(wait_for([&] { return server_->connection_count() == 0; }));
}

TEST_F(server_test, ClientReconnectsWhenTheServerClosedAnIdleConnection) {
  http_limits limits;
  limits.idle_timeout_ms = milliseconds(100);
  start(limits);
  auto c = make_client();
  ASSERT_EQ(c->request(http::verb::get, "/api/v1/health")->status, 200u);
  ASSERT_TRUE(wait_for([&] { return server_->connection_count() == 0; }));
  auto r = c->request(http::verb::get, "/api/v1/health");
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->status, 200u);
}

TEST_F(server_test, ConnectionsBeyondTheLimitAreRefused) {
  http_limits limits;
  limits.connections_max = 2;
  start(limits);
  raw_connection first(port_), second(port_), third(port_);
  ASSERT_FALSE(first.handshake());
  ASSERT_FALSE(second.handshake());
  EXPECT_TRUE(third.handshake());
  ASSERT_FALSE(first.send(get_request("/api/v1/health")));
  http::response<http::string_body> r;
  ASSERT_FALSE(first.read(r));
  EXPECT_EQ(r.result_int(), 200u);
}

TEST_F(server_test, StopClosesIdleConnectionsQuickly) {
  start();
  std::vector<std::unique_ptr<raw_connection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<raw_connection>(port_));
    ASSERT_FALSE(idle.back()->handshake());
  }
  ASSERT_TRUE(wait_for([&] { return server_->connection_count() == 3; }));
  auto start_time = steady_clock::now();
  EXPECT_TRUE(server_->stop());
  EXPECT_LT(ms_since(start_time), 1000);
  EXPECT_EQ(server_->connection_count(), 0u);
  auto c = make_client(tls_trust::trust_ca(pki_.ca_pem), client_limits{milliseconds(1000)});
  auto refused = c->request(http::verb::get, "/api/v1/health");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message, "cannot connect to " + url() + ": connection refused");
}

TEST_F(server_test, StopEndsWithinItsBoundDespiteAStuckHandler) {
  http_limits limits;
  limits.stop_timeout_ms = milliseconds(600);
  start(limits);
  raw_connection raw(port_);
  ASSERT_FALSE(raw.handshake());
  ASSERT_FALSE(raw.send(get_request("/api/v1/slow")));
  ASSERT_TRUE(wait_for([] { return slow_handler_started.load(); }));
  auto start_time = steady_clock::now();
  EXPECT_FALSE(server_->stop());  // the handler still waits on its timer
  EXPECT_GE(ms_since(start_time), 550);
  EXPECT_LT(ms_since(start_time), 1500);
}

}  // namespace
}  // namespace vcube::api::testing
