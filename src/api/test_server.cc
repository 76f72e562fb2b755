#include "api/test_server.h"

namespace vcube::api::testing {

std::atomic<bool> slow_handler_started{false};

test_pki make_test_pki(std::string_view cluster) {
  auto ca_key = generate_key();
  auto node_key = generate_key();
  auto ca = create_ca(ca_key.value(), cluster);
  auto csr = create_csr(node_key.value(), "n1", "127.0.0.1");
  auto cert = sign_csr(ca.value(), *ca_key, csr.value());
  return {to_pem(*ca), to_pem(cert.value()), to_pem(*node_key), fingerprint_sha256(*cert)};
}

namespace {

awaitable<response> health(request_context&) {
  co_return response{200, {{"status", "ok"}}, {}};
}

awaitable<response> echo(request_context& context) {
  json body = {{"params", context.params},
               {"query", context.query},
               {"user", context.principal ? context.principal->user : ""}};
  if (context.request.method() == http::verb::put) {
    auto value = context.body_json();
    if (!value)
      co_return error_response(value.err());
    body["body"] = *value;
  }
  co_return response{200, body, {}};
}

awaitable<response> admin_only(request_context&) {
  co_return response{200, {{"restored", true}}, {}};
}

awaitable<response> throws(request_context&) {
  throw std::runtime_error("handler failed on purpose");
  co_return response{};
}

awaitable<response> slow(request_context&) {
  slow_handler_started = true;
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(30));
  beast::error_code ec;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  co_return response{200, {{"slow", true}}, {}};
}

}  // namespace

router make_test_router() {
  router r;
  r.add(http::verb::get, "/api/v1/health", access::public_, health);
  r.add(http::verb::get, "/api/v1/domain/{kind}/{name}", access::authenticated, echo);
  r.add(http::verb::put, "/api/v1/domain/{kind}/{name}", access::authenticated, echo);
  r.add(http::verb::post, "/api/v1/backup", access::admin, admin_only);
  r.add(http::verb::get, "/api/v1/throw", access::public_, throws);
  r.add(http::verb::get, "/api/v1/slow", access::public_, slow);
  return r;
}

server_test::server_test() : pki_(make_test_pki()) {
  slow_handler_started = false;
}

server_test::~server_test() {
  if (server_)
    server_->stop();
  work_.reset();
  ioc_.stop();
  if (thread_.joinable())
    thread_.join();
}

void server_test::start(http_limits limits) {
  auto tls = make_server_context(pki_.cert_pem, pki_.key_pem);
  ASSERT_TRUE(tls.ok()) << tls.err().message;
  token_signer signer = signer_;
  authenticator auth = [signer](std::string_view token) -> result<principal> {
    auto user = signer.verify(token, std::time(nullptr));
    if (!user)
      return user.err();
    return principal{*user, {*user == "admin" ? "admin" : "viewer"}};
  };
  server_ = std::make_unique<http_server>(ioc_.get_executor(), std::move(*tls), make_test_router(),
                                          auth, limits);
  auto port = server_->listen({asio::ip::make_address("127.0.0.1"), 0});
  ASSERT_TRUE(port.ok()) << port.err().message;
  port_ = *port;
  thread_ = std::thread([this] { ioc_.run(); });
}

std::unique_ptr<client> server_test::make_client(tls_trust trust, client_limits limits) {
  auto c = client::create(url(), std::move(trust), limits);
  EXPECT_TRUE(c.ok()) << c.err().message;
  return std::move(c.value());
}

std::string server_test::token_for(const std::string& user) {
  return signer_.issue(user, std::time(nullptr) + 3600);
}

raw_connection::raw_connection(unsigned short port) : port_(port) {
  tls_.set_verify_mode(asio::ssl::verify_none);
}

template <class Start>
beast::error_code raw_connection::run(Start start, int deadline_ms) {
  beast::error_code result = asio::error::would_block;
  beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(deadline_ms));
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc_.restart();
  ioc_.run();
  return result;
}

beast::error_code raw_connection::handshake() {
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
  auto ec = run([&](auto done) { beast::get_lowest_layer(stream_).async_connect(endpoint, done); });
  if (ec)
    return ec;
  return run([&](auto done) { stream_.async_handshake(asio::ssl::stream_base::client, done); });
}

beast::error_code raw_connection::send(const std::string& bytes) {
  return run([&](auto done) { asio::async_write(stream_, asio::buffer(bytes), done); });
}

beast::error_code raw_connection::read(http::response<http::string_body>& response) {
  return run([&](auto done) { http::async_read(stream_, buffer_, response, done); });
}

beast::error_code raw_connection::read_until_closed(int deadline_ms) {
  std::string sink;
  auto dynamic = asio::dynamic_buffer(sink);
  return run([&](auto done) { asio::async_read(stream_, dynamic, done); }, deadline_ms);
}

}  // namespace vcube::api::testing
