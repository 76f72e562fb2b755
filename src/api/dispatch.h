// From a parsed request to a response: routing, authentication, the role
// check, calling the handler, and turning its failures into JSON errors.
// Independent of sockets, so it is tested without a network.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "api/router.h"

namespace vcube::api {

inline constexpr std::string_view token_cookie = "vcube_token";

// The Set-Cookie header that hands `token` to a browser (login):
// "vcube_token=T; Path=/; Max-Age=N; HttpOnly; Secure; SameSite=Strict".
std::pair<std::string, std::string> token_cookie_header(std::string_view token, int64_t max_age_s);

// The token from "Authorization: Bearer X", else from the vcube_token cookie.
std::optional<std::string> request_token(const http_request& request);

// Routes and runs `request`. `request`, `routes` and `auth` must outlive the
// returned coroutine (the caller co_awaits it at once).
awaitable<response> dispatch(const router& routes, const authenticator& auth,
                             const http_request& request, std::string remote_address);

// The HTTP message for `r`: JSON body, Cache-Control: no-store, r.headers.
http::response<http::string_body> to_http_response(const response& r, unsigned version,
                                                   bool keep_alive);

}  // namespace vcube::api
