#include "api/websocket_client.h"

#include <openssl/ssl.h>

#include <cctype>

#include "api/task_group.h"

namespace vcube::api {
namespace {

struct wss_url {
  std::string text;  // as given
  std::string host;  // without brackets
  std::string port;
  std::string host_header;
  std::string target;  // "/path?query"
};

result<wss_url> parse_wss_url(std::string_view url) {
  constexpr std::string_view scheme = "wss://";
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_input, "URL '" + std::string(url) + "': " + why, "url");
  };
  if (url.substr(0, scheme.size()) != scheme)
    return bad("must start with wss://");
  std::string_view rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  wss_url out;
  out.text = url;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view authority = rest.substr(0, slash);
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  std::string_view host = has_port ? authority.substr(0, colon) : authority;
  out.port = has_port ? std::string(authority.substr(colon + 1)) : "8001";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || out.port.empty() ||
      out.port.find_first_not_of("0123456789") != std::string::npos)
    return bad("expected wss://host:port/path");
  out.host = host;
  out.host_header = authority;
  return out;
}

error connect_failure(const wss_url& url, std::string_view doing, const beast::error_code& ec,
                      const websocket_limits& limits) {
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
    return make_error(errc::timeout, std::string(doing) + " " + url.text + ": not done within " +
                                         std::to_string(limits.handshake_timeout_ms.count()) +
                                         " ms");
  return make_error(errc::unavailable, std::string(doing) + " " + url.text + ": " + ec.message());
}

// The server's refusal as an error: its own code and message when it sent the API's JSON error.
error refusal(const wss_url& url, const websocket::response_type& response) {
  unsigned status = response.result_int();
  errc code = errc_for_http_status(status);
  std::string message = "HTTP " + std::to_string(status);
  json body = json::parse(response.body(), nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    if (e.contains("message") && e["message"].is_string())
      message = e["message"].get<std::string>();
    for (int i = 0; e.contains("code") && i <= static_cast<int>(errc::internal); ++i) {
      if (e["code"] == errc_name(static_cast<errc>(i)))
        code = static_cast<errc>(i);
    }
  }
  return make_error(code, url.text + " refused the WebSocket: " + message);
}

awaitable<result<asio::ip::tcp::resolver::results_type>> resolve(const wss_url& url,
                                                                 const websocket_limits& limits) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  detail::deadline_guard guard(executor, limits.handshake_timeout_ms, [&] { resolver.cancel(); });
  beast::error_code ec;
  auto endpoints =
      co_await resolver.async_resolve(url.host, url.port, asio::redirect_error(use_awaitable, ec));
  if (ec)
    co_return connect_failure(url, "cannot resolve the address of", ec, limits);
  co_return endpoints;
}

void decorate(websocket::request_type& request, const websocket_client_options& options) {
  request.set(http::field::user_agent, "vcube");
  if (options.token)
    request.set(http::field::authorization, "Bearer " + *options.token);
  if (options.subprotocol)
    request.set(http::field::sec_websocket_protocol, *options.subprotocol);
  for (const auto& [name, value] : options.headers)
    request.set(name, value);
}

awaitable<status> open(websocket_client& c, const wss_url& url,
                       const websocket_client_options& options) {
  const websocket_limits& limits = options.limits;
  auto deadline = std::chrono::steady_clock::now() + limits.handshake_timeout_ms;
  auto endpoints = co_await resolve(url, limits);
  if (!endpoints)
    co_return endpoints.err();
  auto& tcp = beast::get_lowest_layer(c.ws);
  tcp.expires_at(deadline);
  beast::error_code ec;
  co_await tcp.async_connect(*endpoints, asio::redirect_error(use_awaitable, ec));
  if (ec)
    co_return connect_failure(url, "cannot connect to", ec, limits);
  beast::error_code not_ip;
  asio::ip::make_address(url.host, not_ip);
  if (not_ip)
    SSL_set_tlsext_host_name(c.ws.next_layer().native_handle(), url.host.c_str());
  co_await c.ws.next_layer().async_handshake(asio::ssl::stream_base::client,
                                             asio::redirect_error(use_awaitable, ec));
  if (ec)
    co_return connect_failure(url, "TLS handshake with", ec, limits);
  c.ws.set_option(websocket::stream_base::decorator(
      [&options](websocket::request_type& request) { decorate(request, options); }));
  websocket::response_type response;
  co_await c.ws.async_handshake(response, url.host_header, url.target,
                                asio::redirect_error(use_awaitable, ec));
  if (ec == websocket::error::upgrade_declined)
    co_return refusal(url, response);
  if (ec)
    co_return connect_failure(url, "WebSocket handshake with", ec, limits);
  c.subprotocol = std::string(response[http::field::sec_websocket_protocol]);
  co_return ok_status();
}

}  // namespace

websocket_client::websocket_client(asio::any_io_executor executor, asio::ssl::context context)
    : tls(std::move(context)), ws(executor, tls) {}

awaitable<result<std::unique_ptr<websocket_client>>> connect_websocket(
    const std::string& url, const websocket_client_options& options) {
  auto parsed = parse_wss_url(url);
  if (!parsed)
    co_return parsed.err();
  auto context = make_client_context(options.trust);
  if (!context)
    co_return context.err();
  auto c =
      std::make_unique<websocket_client>(co_await asio::this_coro::executor, std::move(*context));
  if (auto opened = co_await open(*c, *parsed, options); !opened)
    co_return opened.err();
  const websocket_limits& limits = options.limits;
  // Beast's own timeouts from here on (the decorator referred to `options`).
  c->ws.set_option(websocket::stream_base::decorator([](websocket::request_type&) {}));
  beast::get_lowest_layer(c->ws).expires_never();
  c->ws.set_option(
      websocket::stream_base::timeout{limits.close_timeout_ms, limits.idle_timeout_ms, true});
  c->ws.read_message_max(limits.message_bytes_max);
  c->ws.binary(true);
  c->ws.auto_fragment(false);
  co_return std::move(c);
}

errc errc_for_http_status(unsigned status) {
  switch (status) {
    case 400:
    case 405:
    case 426:
      return errc::invalid_input;
    case 401:
      return errc::unauthorized;
    case 403:
      return errc::forbidden;
    case 404:
      return errc::not_found;
    case 409:
      return errc::conflict;
    case 413:
    case 431:
      return errc::too_large;
    case 502:
    case 503:
      return errc::unavailable;
    case 504:
      return errc::timeout;
    default:
      return errc::internal;
  }
}

}  // namespace vcube::api
