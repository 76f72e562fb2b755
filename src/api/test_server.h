// Test support: a cluster CA and node certificate for 127.0.0.1, an HTTPS
// server on an ephemeral port run by its own thread, a small route table, and
// a raw TLS connection for tests that misbehave on purpose.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "api/client.h"
#include "api/http_server.h"
#include "api/tls.h"
#include "api/tls_context.h"
#include "api/token.h"

namespace vcube::api::testing {

struct test_pki {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  std::string fingerprint;  // of cert_pem
};
test_pki make_test_pki(std::string_view cluster = "test");

// Waits for `condition` up to `deadline_ms`; true when it held.
template <class Condition>
bool wait_for(Condition condition, int deadline_ms = 5000) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Set when the slow handler has started; the slow handler waits 30 s.
extern std::atomic<bool> slow_handler_started;

// Routes: GET /api/v1/health (public), GET|PUT /api/v1/domain/{kind}/{name}
// (authenticated; echo params, query, user and, for PUT, the JSON body),
// POST /api/v1/backup (admin), GET /api/v1/throw, GET /api/v1/slow (public).
router make_test_router();

// Server fixture. Tokens: signer_.issue("admin"|"viewer"|"operator", ...).
class server_test : public ::testing::Test {
 protected:
  server_test();
  ~server_test() override;
  void start(http_limits limits = {});
  std::unique_ptr<client> make_client(tls_trust trust, client_limits limits = {});
  std::unique_ptr<client> make_client() { return make_client(tls_trust::trust_ca(pki_.ca_pem)); }
  std::string token_for(const std::string& user);
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  test_pki pki_;
  token_signer signer_{generate_auth_key()};
  asio::io_context ioc_;
  std::unique_ptr<http_server> server_;
  unsigned short port_ = 0;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::thread thread_;
};

// A TLS connection driven step by step, each step with a 5 s deadline.
class raw_connection {
 public:
  explicit raw_connection(unsigned short port);
  beast::error_code handshake();
  beast::error_code send(const std::string& bytes);
  beast::error_code read(http::response<http::string_body>& response);
  // Reads until the server closes; the error says how (eof, truncated...).
  beast::error_code read_until_closed(int deadline_ms);

 private:
  template <class Start>
  beast::error_code run(Start start, int deadline_ms = 5000);

  unsigned short port_;
  asio::io_context ioc_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream_{ioc_, tls_};
  beast::flat_buffer buffer_;
};

}  // namespace vcube::api::testing
