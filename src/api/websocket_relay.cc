#include "api/websocket_relay.h"

#include <spdlog/spdlog.h>

#include "api/relay.h"
#include "api/task_group.h"
#include "api/url.h"
#include "api/websocket_client.h"

namespace vcube::api {
namespace {

using unix_socket = asio::local::stream_protocol::socket;

// sockaddr_un's sun_path holds 108 bytes with the terminating NUL.
constexpr size_t unix_path_bytes_max = 107;

awaitable<result<unix_socket>> connect_unix(std::string path, std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  if (path.size() > unix_path_bytes_max)
    co_return make_error(
        errc::internal,
        "socket path is over " + std::to_string(unix_path_bytes_max) + " bytes: " + path);
  unix_socket socket(executor);
  detail::deadline_guard guard(executor, timeout, [&] {
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  boost::system::error_code ec;
  co_await socket.async_connect(asio::local::stream_protocol::endpoint(path),
                                asio::redirect_error(use_awaitable, ec));
  if (guard.has_expired())
    co_return make_error(errc::timeout, "cannot connect to " + path + " within " +
                                            std::to_string(timeout.count()) + " ms");
  if (ec)
    co_return make_error(errc::conflict,
                         "the console is not available (is the VM running on "
                         "this node?): cannot connect to " +
                             path + ": " + ec.message());
  co_return std::move(socket);
}

// Accepts the upgrade and relays between it and `back` until either ends or the server stops.
awaitable<response> accept_and_relay(websocket_upgrade& upgrade, relay_end& back) {
  if (auto accepted = co_await upgrade.accept(); !accepted)
    co_return error_response(accepted.err());
  websocket_end<websocket_stream> front(upgrade.stream(), upgrade.limits().write_timeout_ms);
  relay session(front, back, upgrade.limits().relay_chunk_bytes);
  upgrade.set_on_stop([&] {
    front.set_close_code(websocket::close_code::going_away);
    session.stop();
  });
  co_await session.run();
  upgrade.set_on_stop(nullptr);
  co_return response{};
}

awaitable<response> relay_to_client(websocket_upgrade& upgrade,
                                    std::unique_ptr<websocket_client> upstream) {
  websocket_end<tls_websocket> back(upstream->ws, upgrade.limits().write_timeout_ms);
  co_return co_await accept_and_relay(upgrade, back);
}

}  // namespace

awaitable<response> relay_to_unix_socket(websocket_upgrade& upgrade, std::string socket_path) {
  auto socket =
      co_await connect_unix(std::move(socket_path), upgrade.limits().handshake_timeout_ms);
  if (!socket)
    co_return error_response(socket.err());
  unix_socket_end back(std::move(*socket), upgrade.limits().write_timeout_ms);
  co_return co_await accept_and_relay(upgrade, back);
}

awaitable<response> forward_websocket(websocket_upgrade& upgrade, forward_target to) {
  if (upgrade.is_forwarded())
    co_return error_response(
        make_error(errc::conflict,
                   "this WebSocket was forwarded here by another node, but it is not served "
                   "here either; retry when the cluster agrees where the VM runs"));
  std::string target =
      to.target.empty() ? target_without_token(to_std(upgrade.request().target())) : to.target;
  bool is_ipv6 = to.address.find(':') != std::string::npos;
  std::string url = "wss://" + (is_ipv6 ? "[" + to.address + "]" : to.address) + ":" +
                    std::to_string(to.port) + target;
  websocket_client_options options;
  options.trust = std::move(to.trust);
  options.token = upgrade.token();
  options.headers.emplace_back(forwarded_header, "1");
  options.subprotocol = "binary";
  options.limits = upgrade.limits();
  auto upstream = co_await connect_websocket(url, std::move(options));
  if (!upstream) {
    spdlog::info("api: cannot forward a WebSocket to {}: {}", url, upstream.err().message);
    co_return error_response(upstream.err());
  }
  co_return co_await relay_to_client(upgrade, std::move(*upstream));
}

std::string target_without_token(std::string_view target) {
  auto [path, query] = split_target(target);
  std::string kept;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item == "token" || item.starts_with("token="))
      continue;
    kept += (kept.empty() ? "" : "&") + std::string(item);
  }
  return std::string(path) + (kept.empty() ? "" : "?" + kept);
}

}  // namespace vcube::api
