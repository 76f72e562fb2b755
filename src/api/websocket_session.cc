#include "api/websocket_session.h"

#include <spdlog/spdlog.h>

#include "api/dispatch.h"

namespace vcube::api::detail {
namespace {

// Holds one of the server's WebSocket session slots, if one was free.
class session_slot {
 public:
  explicit session_slot(server_state& server) : server_(server) {
    size_t count = ++server_.websocket_sessions;
    is_held_ = count <= server_.limits.websocket.sessions_max;
    if (!is_held_)
      --server_.websocket_sessions;
  }
  ~session_slot() {
    if (is_held_)
      --server_.websocket_sessions;
  }
  session_slot(const session_slot&) = delete;
  session_slot& operator=(const session_slot&) = delete;
  bool is_held() const { return is_held_; }

 private:
  server_state& server_;
  bool is_held_ = false;
};

awaitable<response> run_handler(const websocket_handler& fn, request_context& context,
                                websocket_upgrade& upgrade) {
  std::string failure;
  try {
    co_return co_await fn(context, upgrade);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  spdlog::error("api: WebSocket {} from {} threw: {}", to_std(context.request.target()),
                context.remote_address, failure);
  co_return error_response(make_error(
      errc::internal, "internal error in a WebSocket handler (see the log of vcubed): " + failure));
}

// A handler that returns with the WebSocket still open gets a normal close.
awaitable<void> close_if_open(websocket_upgrade& upgrade) {
  if (!upgrade.is_accepted() || !upgrade.stream().is_open())
    co_return;
  beast::error_code ec;
  co_await upgrade.stream().async_close(websocket::close_code::normal,
                                        asio::redirect_error(use_awaitable, ec));
}

}  // namespace

awaitable<upgrade_result> serve_upgrade(connection& c, const http_request& request) {
  auto routed = route_request(c.server->routes, c.server->auth, request, c.remote_address);
  if (auto* refused = std::get_if<response>(&routed))
    co_return upgrade_result{upgrade_result::refused, std::move(*refused)};
  auto& [match, context, token] = std::get<routed_request>(routed);
  if (!match.websocket_fn)
    co_return upgrade_result{};
  session_slot slot(*c.server);
  if (!slot.is_held()) {
    spdlog::warn("api: refusing a WebSocket from {}: {} sessions open", c.remote_address,
                 c.server->limits.websocket.sessions_max);
    co_return upgrade_result{
        upgrade_result::refused,
        error_response(make_error(errc::unavailable,
                                  "too many WebSocket sessions on this node (" +
                                      std::to_string(c.server->limits.websocket.sessions_max) +
                                      "); close one and retry"))};
  }
  websocket_upgrade upgrade(c, request, std::move(token));
  response r = co_await run_handler(*match.websocket_fn, context, upgrade);
  upgrade.set_on_stop(nullptr);
  if (!upgrade.is_attempted())
    co_return upgrade_result{upgrade_result::refused, std::move(r)};
  co_await close_if_open(upgrade);
  co_return upgrade_result{upgrade_result::done, {}};
}

}  // namespace vcube::api::detail
