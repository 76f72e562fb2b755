// A fixture with up to two API servers in one process (one thread runs both),
// each with a console route GET /api/v1/vms/{name}/console (WebSocket,
// authenticated; only "vm1" exists) that relays to a unix socket or forwards
// to the other server, and an admin-only WebSocket route /api/v1/admin/ws.
#pragma once

#include "api/test_server.h"
#include "api/websocket_relay.h"
#include "api/websocket_test_support.h"

namespace vcube::api::testing {

struct console_config {
  std::string vnc_path;             // relay here, unless forward_port is set
  unsigned short forward_port = 0;  // forward to 127.0.0.1:forward_port
  std::string ca_pem;
  std::string forward_target;  // "" = the request's own target
};

class websocket_test : public ::testing::Test {
 protected:
  websocket_test();
  ~websocket_test() override;

  // Starts a server with `config`; returns its port.
  unsigned short start(std::unique_ptr<http_server>& server, console_config config,
                       http_limits limits = {});
  unsigned short start_relay(http_limits limits = {});  // server a_ relaying to vnc_path()

  // Opens wss://127.0.0.1:port<target> trusting the test CA, offering "binary".
  result<std::unique_ptr<websocket_client>> connect(unsigned short port, const std::string& target,
                                                    std::optional<std::string> token,
                                                    websocket_client_options options = {});
  std::string token_for(const std::string& user);
  std::string vnc_path() const { return dir_ + "/vnc.sock"; }
  template <class T>
  T run(awaitable<T> task) {
    return run_coroutine(client_ioc_, std::move(task));
  }

  test_pki pki_;
  token_signer signer_{generate_auth_key()};
  std::string dir_;
  asio::io_context server_ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{server_ioc_.get_executor()};
  std::thread thread_;
  std::unique_ptr<http_server> a_;
  std::unique_ptr<http_server> b_;
  asio::io_context client_ioc_;
};

// Reads one message; the error code's value when the stream ended instead.
awaitable<result<std::string>> read_message(tls_websocket& ws);

}  // namespace vcube::api::testing
