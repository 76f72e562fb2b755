#include "api/dispatch.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace vcube::api {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

std::optional<std::string> cookie_value(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    size_t semi = cookies.find(';');
    std::string_view item = trim(cookies.substr(0, semi));
    cookies = semi == std::string_view::npos ? std::string_view() : cookies.substr(semi + 1);
    size_t eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name)
      return std::string(trim(item.substr(eq + 1)));
  }
  return std::nullopt;
}

// The principal for a route of `level`, or the error response that refuses it.
// On a public route a bad token is ignored (login must work with a stale cookie).
std::variant<std::optional<principal>, response> authorize(const authenticator& auth,
                                                           const std::optional<std::string>& token,
                                                           access level) {
  std::optional<principal> who;
  std::optional<error> failure;
  if (token && auth) {
    auto result = auth(*token);
    if (result)
      who = std::move(*result);
    else
      failure = result.err();
  } else if (token) {
    failure = make_error(errc::unauthorized, "invalid token");
  }
  if (level == access::public_)
    return who;
  if (!token)
    return error_response(
        make_error(errc::unauthorized, "authentication required: log in with POST /api/v1/login"));
  if (!who)
    return error_response(*failure);
  if (level == access::admin && !who->has_role("admin"))
    return error_response(make_error(
        errc::forbidden, "this needs the admin role; user '" + who->user + "' lacks it"));
  return who;
}

std::optional<std::string> bearer_token(const http_request& request) {
  auto authorization = request.find(http::field::authorization);
  if (authorization == request.end())
    return std::nullopt;
  std::string_view value = trim(to_std(authorization->value()));
  if (!iequals_prefix(value, "bearer "))
    return std::nullopt;
  std::string_view token = trim(value.substr(7));
  if (token.empty())
    return std::nullopt;
  return std::string(token);
}

// "https://host:port" → "host:port".
std::string_view origin_authority(std::string_view origin) {
  size_t scheme_end = origin.find("://");
  return scheme_end == std::string_view::npos ? origin : origin.substr(scheme_end + 3);
}

// A browser sends the cookie with a WebSocket opened by any site (no CORS
// check applies), so a cookie counts only when the page came from here.
bool is_cross_origin(const http_request& request) {
  auto origin = request.find(http::field::origin);
  if (origin == request.end())
    return false;
  return origin_authority(to_std(origin->value())) != to_std(request[http::field::host]);
}

// The token of a WebSocket route, or the response that refuses the request.
std::variant<std::optional<std::string>, response> websocket_token(
    const http_request& request, const std::map<std::string, std::string>& query) {
  if (auto token = bearer_token(request))
    return token;
  auto in_query = query.find("token");
  if (in_query != query.end() && !in_query->second.empty())
    return in_query->second;
  std::optional<std::string> token = request_token(request);
  if (token && is_cross_origin(request))
    return error_response(make_error(
        errc::forbidden, "a WebSocket from another origin must pass its token as ?token="));
  return token;
}

}  // namespace

std::pair<std::string, std::string> token_cookie_header(std::string_view token, int64_t max_age_s) {
  return {"Set-Cookie", std::string(token_cookie) + "=" + std::string(token) +
                            "; Path=/; Max-Age=" + std::to_string(max_age_s) +
                            "; HttpOnly; Secure; SameSite=Strict"};
}

std::optional<std::string> request_token(const http_request& request) {
  if (auto token = bearer_token(request))
    return token;
  auto cookie = request.find(http::field::cookie);
  if (cookie != request.end()) {
    auto token = cookie_value(to_std(cookie->value()), token_cookie);
    if (token && !token->empty())
      return token;
  }
  return std::nullopt;
}

std::variant<routed_request, response> route_request(const router& routes,
                                                     const authenticator& auth,
                                                     const http_request& request,
                                                     std::string remote_address) {
  auto found = routes.find(request.method(), to_std(request.target()));
  if (auto* refused = std::get_if<response>(&found))
    return std::move(*refused);
  auto& match = std::get<route_match>(found);
  std::optional<std::string> token;
  if (match.websocket_fn) {
    auto from_request = websocket_token(request, match.query);
    if (auto* refused = std::get_if<response>(&from_request))
      return std::move(*refused);
    token = std::move(std::get<std::optional<std::string>>(from_request));
  } else {
    token = request_token(request);
  }
  auto who = authorize(auth, token, match.level);
  if (auto* refused = std::get_if<response>(&who))
    return std::move(*refused);
  request_context context{request, match.params, match.query,
                          std::move(std::get<std::optional<principal>>(who)),
                          std::move(remote_address)};
  return routed_request{std::move(match), std::move(context), std::move(token)};
}

awaitable<response> dispatch(const router& routes, const authenticator& auth,
                             const http_request& request, std::string remote_address) {
  auto routed = route_request(routes, auth, request, std::move(remote_address));
  if (auto* refused = std::get_if<response>(&routed))
    co_return std::move(*refused);
  auto& [match, context, token] = std::get<routed_request>(routed);
  if (match.websocket_fn) {
    response r = error_response(make_error(
        errc::invalid_input, "this is a WebSocket endpoint: send \"Upgrade: websocket\""));
    r.status = 426;
    r.headers.emplace_back("Upgrade", "websocket");
    co_return r;
  }
  std::optional<response> result;
  std::string failure;
  try {
    result = co_await (*match.fn)(context);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!result) {
    spdlog::error("api: {} {} from {} threw: {}", to_std(request.method_string()),
                  to_std(request.target()), context.remote_address, failure);
    co_return error_response(make_error(errc::internal,
                                        "internal error while handling the request (see the log of "
                                        "vcubed): " +
                                            failure));
  }
  co_return std::move(*result);
}

http::response<http::string_body> to_http_response(const response& r, unsigned version,
                                                   bool keep_alive) {
  http::response<http::string_body> message{static_cast<http::status>(r.status), version};
  message.set(http::field::server, "vcube");
  message.set(http::field::content_type, "application/json");
  message.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : r.headers)
    message.insert(name, value);
  message.keep_alive(keep_alive);
  if (r.status != 204 && r.status != 304)
    message.body() = r.body.dump(-1, ' ', false, json::error_handler_t::replace);
  message.prepare_payload();
  return message;
}

}  // namespace vcube::api
