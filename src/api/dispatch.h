// From a parsed request to a response: routing, authentication, the role
// check, calling the handler, and turning its failures into JSON errors.
// Independent of sockets, so it is tested without a network.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "api/handler.h"
#include "api/router.h"

namespace vcube::api {

inline constexpr std::string_view token_cookie = "vcube_token";

// The Set-Cookie header that hands `token` to a browser (login):
// "vcube_token=T; Path=/; Max-Age=N; HttpOnly; Secure; SameSite=Strict".
std::pair<std::string, std::string> token_cookie_header(std::string_view token, int64_t max_age_s);

// The token from "Authorization: Bearer X", else from the vcube_token cookie.
std::optional<std::string> request_token(const http_request& request);

// A routed and authorised request, ready for its handler.
struct routed_request {
  route_match match;
  request_context context;           // refers to the request
  std::optional<std::string> token;  // the token that came along, if any
};

// Routing, authentication and the role check of `request`, or the response
// that refuses it. On a WebSocket route the token may also be the query
// parameter `token`; a token from the cookie is refused (403) when the
// request's Origin is not the Host it was sent to (cross-site WebSocket).
std::variant<routed_request, response> route_request(const router& routes,
                                                     const authenticator& auth,
                                                     const http_request& request,
                                                     std::string remote_address);

// Routes and runs `request`. `request`, `routes` and `auth` must outlive the
// returned coroutine (the caller co_awaits it at once).
awaitable<response> dispatch(const router& routes, const authenticator& auth,
                             const http_request& request, std::string remote_address);

// The HTTP message for `r`: JSON body, Cache-Control: no-store, r.headers.
http::response<http::string_body> to_http_response(const response& r, unsigned version,
                                                   bool keep_alive);

}  // namespace vcube::api
