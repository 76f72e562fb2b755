#include "api/client.h"

#include <openssl/ssl.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>

#include "api/tls.h"

namespace vcube::api {

namespace beast = boost::beast;
namespace http = beast::http;

struct client_impl {
  std::string url;
  std::string host;  // without brackets
  std::string port;
  std::string host_header;
  tls_trust trust;
  client_limits limits;
  asio::io_context ioc{1};
  std::shared_ptr<std::string> seen_fingerprint = std::make_shared<std::string>();
  std::optional<asio::ssl::context> tls;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;  // null when not connected
  beast::flat_buffer buffer;
};

namespace {

using http_request = http::request<http::string_body>;
using outcome = std::optional<result<client_response>>;

auto on_error(beast::error_code& ec) {
  return asio::redirect_error(use_awaitable, ec);
}

error failure(const client_impl& c, std::string_view doing, const beast::error_code& ec,
              std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout)
    return make_error(errc::timeout, std::string(doing) + " " + c.url + ": no answer within " +
                                         std::to_string(timeout.count()) + " ms");
  std::string reason = ec.message();
  if (!reason.empty())
    reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
  return make_error(errc::unavailable, std::string(doing) + " " + c.url + ": " + reason);
}

// After a first contact without verification, later connections accept only
// the certificate seen then.
void pin_seen_certificate(client_impl& c) {
  if (c.trust.how != tls_trust::kind::insecure || c.seen_fingerprint->empty())
    return;
  c.trust = tls_trust::pin(*c.seen_fingerprint);
  c.tls.reset();
}

status handshake_failure(const client_impl& c, const beast::error_code& ec) {
  const std::string& seen = *c.seen_fingerprint;
  if (c.trust.how == tls_trust::kind::pinned && !seen.empty() &&
      normalize_fingerprint(seen) != normalize_fingerprint(c.trust.fingerprint))
    return make_error(errc::unavailable, "TLS handshake with " + c.url +
                                             ": the server presented certificate " + seen +
                                             ", not the pinned " + c.trust.fingerprint);
  return failure(c, "TLS handshake with", ec, c.limits.connect_timeout_ms);
}

awaitable<status> connect(client_impl& c) {
  c.stream.reset();
  c.buffer.clear();
  pin_seen_certificate(c);
  if (!c.tls) {
    auto context = make_client_context(c.trust, c.seen_fingerprint);
    if (!context)
      co_return context.err();
    c.tls.emplace(std::move(*context));
  }
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(c.ioc);
  auto endpoints = co_await resolver.async_resolve(c.host, c.port, on_error(ec));
  if (ec)
    co_return failure(c, "cannot resolve the address of", ec, c.limits.connect_timeout_ms);
  auto stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(c.ioc, *c.tls);
  auto& tcp = beast::get_lowest_layer(*stream);
  tcp.expires_after(c.limits.connect_timeout_ms);
  co_await tcp.async_connect(endpoints, on_error(ec));
  if (ec)
    co_return failure(c, "cannot connect to", ec, c.limits.connect_timeout_ms);
  beast::error_code not_ip;
  asio::ip::make_address(c.host, not_ip);
  if (not_ip)
    SSL_set_tlsext_host_name(stream->native_handle(), c.host.c_str());
  c.seen_fingerprint->clear();
  co_await stream->async_handshake(asio::ssl::stream_base::client, on_error(ec));
  if (ec)
    co_return handshake_failure(c, ec);
  c.stream = std::move(stream);
  co_return ok_status();
}

client_response to_client_response(http::response<http::string_body>& message) {
  client_response r;
  r.status = message.result_int();
  for (const auto& field : message)
    r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  if (!message.body().empty()) {
    r.body = json::parse(message.body(), nullptr, false);
    if (r.body.is_discarded())
      r.body = message.body();
  }
  return r;
}

// An error here with nothing received may mean the server had closed the
// kept-alive connection; the caller then retries once on a new one.
awaitable<result<client_response>> round_trip(client_impl& c, http_request& request,
                                              bool* may_retry) {
  beast::error_code ec;
  auto& tcp = beast::get_lowest_layer(*c.stream);
  tcp.expires_after(c.limits.write_timeout_ms);
  co_await http::async_write(*c.stream, request, on_error(ec));
  *may_retry = ec && ec != beast::error::timeout;
  if (ec)
    co_return failure(c, "cannot send the request to", ec, c.limits.write_timeout_ms);
  http::response_parser<http::string_body> parser;
  parser.body_limit(c.limits.body_bytes_max);
  tcp.expires_after(c.limits.read_timeout_ms);
  co_await http::async_read(*c.stream, c.buffer, parser, on_error(ec));
  *may_retry = ec == http::error::end_of_stream || ec == asio::error::eof ||
               ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated;
  if (ec)
    co_return failure(c, "cannot read the response from", ec, c.limits.read_timeout_ms);
  auto message = parser.release();
  if (!message.keep_alive())
    c.stream.reset();
  co_return to_client_response(message);
}

awaitable<void> exchange(client_impl& c, http_request& request, outcome* out) {
  bool is_reused = c.stream != nullptr;
  if (!is_reused) {
    if (auto st = co_await connect(c); !st) {
      *out = st.err();
      co_return;
    }
  }
  bool may_retry = false;
  auto response = co_await round_trip(c, request, &may_retry);
  if (!response && may_retry && is_reused) {
    if (auto st = co_await connect(c); !st) {
      *out = st.err();
      co_return;
    }
    response = co_await round_trip(c, request, &may_retry);
  }
  if (!response)
    c.stream.reset();
  *out = std::move(response);
}

result<client_impl*> parse_url(std::string_view url, client_impl& c) {
  constexpr std::string_view scheme = "https://";
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_input, "URL '" + std::string(url) + "': " + why, "url");
  };
  if (url.substr(0, scheme.size()) != scheme)
    return bad("must start with https://");
  std::string_view rest = url.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos)
    return bad("must not have a path");
  size_t colon = rest.rfind(':');
  size_t bracket = rest.rfind(']');
  bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  std::string_view host = has_port ? rest.substr(0, colon) : rest;
  c.port = has_port ? std::string(rest.substr(colon + 1)) : "8001";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || c.port.empty() || c.port.find_first_not_of("0123456789") != std::string::npos)
    return bad("expected https://host:port");
  c.host = host;
  c.host_header = std::string(rest);
  c.url = std::string(scheme) + c.host_header;
  return &c;
}

}  // namespace

std::optional<std::string> client_response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return value;
  }
  return std::nullopt;
}

result<std::unique_ptr<client>> client::create(std::string_view url, tls_trust trust,
                                               client_limits limits) {
  auto impl = std::make_unique<client_impl>();
  if (auto parsed = parse_url(url, *impl); !parsed)
    return parsed.err();
  impl->trust = std::move(trust);
  impl->limits = limits;
  auto context = make_client_context(impl->trust, impl->seen_fingerprint);
  if (!context)
    return context.err();
  impl->tls.emplace(std::move(*context));
  return std::unique_ptr<client>(new client(std::move(impl)));
}

client::client(std::unique_ptr<client_impl> impl) : impl_(std::move(impl)) {}
client::~client() = default;

result<client_response> client::request(http::verb method, const std::string& target,
                                        std::optional<json> body,
                                        std::optional<std::string> token) {
  http_request request{method, target, 11};
  request.set(http::field::host, impl_->host_header);
  request.set(http::field::user_agent, "vcube");
  request.set(http::field::accept, "application/json");
  if (body) {
    request.set(http::field::content_type, "application/json");
    request.body() = body->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (token)
    request.set(http::field::authorization, "Bearer " + *token);
  request.keep_alive(true);
  request.prepare_payload();
  outcome out;
  asio::co_spawn(impl_->ioc, exchange(*impl_, request, &out), [&out](std::exception_ptr e) {
    if (e)
      out = make_error(errc::internal, "HTTPS client failed unexpectedly");
  });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (!out)
    return make_error(errc::internal, "HTTPS client ended without an answer");
  return std::move(*out);
}

std::string client::peer_fingerprint() const {
  return *impl_->seen_fingerprint;
}

const std::string& client::url() const {
  return impl_->url;
}

}  // namespace vcube::api
