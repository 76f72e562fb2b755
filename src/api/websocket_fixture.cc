#include "api/websocket_fixture.h"

#include <filesystem>

namespace vcube::api::testing {
namespace {

awaitable<response> console(std::shared_ptr<console_config> config, request_context& context,
                            websocket_upgrade& upgrade) {
  if (context.params.at("name") != "vm1")
    co_return error_response(make_error(errc::not_found, "no VM named " + context.params["name"]));
  if (config->forward_port == 0)
    co_return co_await relay_to_unix_socket(upgrade, config->vnc_path);
  // A named argument: GCC 12 destroys a temporary in a co_await expression twice.
  forward_target to{"127.0.0.1", config->forward_port, config->forward_target,
                    tls_trust::trust_ca(config->ca_pem)};
  co_return co_await forward_websocket(upgrade, std::move(to));
}

awaitable<response> admin_socket(std::shared_ptr<console_config> config, request_context&,
                                 websocket_upgrade& upgrade) {
  co_return co_await relay_to_unix_socket(upgrade, config->vnc_path);
}

router make_router(const console_config& config) {
  auto shared = std::make_shared<console_config>(config);
  router r;
  r.add(http::verb::get, "/api/v1/health", access::public_,
        [](request_context&) -> awaitable<response> {
          co_return response{200, {}, {}};
        });
  r.add_websocket("/api/v1/vms/{name}/console", access::authenticated,
                  [shared](request_context& context, websocket_upgrade& upgrade) {
                    return console(shared, context, upgrade);
                  });
  r.add_websocket("/api/v1/admin/ws", access::admin,
                  [shared](request_context& context, websocket_upgrade& upgrade) {
                    return admin_socket(shared, context, upgrade);
                  });
  return r;
}

}  // namespace

websocket_test::websocket_test() : pki_(make_test_pki()), dir_(make_socket_dir()) {
  thread_ = std::thread([this] { server_ioc_.run(); });
}

websocket_test::~websocket_test() {
  if (a_)
    a_->stop();
  if (b_)
    b_->stop();
  work_.reset();
  server_ioc_.stop();
  thread_.join();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

unsigned short websocket_test::start(std::unique_ptr<http_server>& server, console_config config,
                                     http_limits limits) {
  auto tls = make_server_context(pki_.cert_pem, pki_.key_pem);
  EXPECT_TRUE(tls.ok());
  token_signer signer = signer_;
  authenticator auth = [signer](std::string_view token) -> result<principal> {
    auto user = signer.verify(token, std::time(nullptr));
    if (!user)
      return user.err();
    return principal{*user, {*user == "admin" ? "admin" : "viewer"}};
  };
  server = std::make_unique<http_server>(server_ioc_.get_executor(), std::move(*tls),
                                         make_router(config), auth, limits);
  auto port = server->listen({asio::ip::make_address("127.0.0.1"), 0});
  EXPECT_TRUE(port.ok());
  return port.ok() ? *port : 0;
}

unsigned short websocket_test::start_relay(http_limits limits) {
  return start(a_, console_config{vnc_path(), 0, "", ""}, limits);
}

result<std::unique_ptr<websocket_client>> websocket_test::connect(
    unsigned short port, const std::string& target, std::optional<std::string> token,
    websocket_client_options options) {
  options.trust = tls_trust::trust_ca(pki_.ca_pem);
  options.token = std::move(token);
  if (!options.subprotocol)
    options.subprotocol = "binary";
  return run(connect_websocket("wss://127.0.0.1:" + std::to_string(port) + target, options));
}

std::string websocket_test::token_for(const std::string& user) {
  return signer_.issue(user, std::time(nullptr) + 3600);
}

awaitable<result<std::string>> read_message(tls_websocket& ws) {
  beast::flat_buffer message;
  boost::system::error_code ec;
  co_await ws.async_read(message, asio::redirect_error(use_awaitable, ec));
  if (ec)
    co_return make_error(errc::unavailable, ec.message());
  co_return beast::buffers_to_string(message.data());
}

}  // namespace vcube::api::testing
