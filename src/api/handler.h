// What an endpoint handler sees and returns. Handlers are coroutines on the
// connection's strand (handlers of different connections run in parallel when
// several threads run the server's executor); they return errors as
// responses (error_response), and an exception escaping one becomes a logged
// 500, never a crash.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace vcube::api {

namespace beast = boost::beast;
namespace http = beast::http;

using http_request = http::request<http::string_body>;

// Boost 1.74's beast::string_view is boost::string_view.
inline std::string_view to_std(beast::string_view s) {
  return {s.data(), s.size()};
}

// An authenticated caller.
struct principal {
  std::string user;
  std::vector<std::string> roles;
  // "admin" implies every role.
  bool has_role(std::string_view role) const;
};

struct request_context {
  // The request; it outlives the handler's coroutine.
  const http_request& request;
  std::map<std::string, std::string> params;         // from {name} segments, percent-decoded
  std::map<std::string, std::string> query;          // percent-decoded, '+' is a space
  std::optional<::vcube::api::principal> principal;  // set when a valid token came along
  std::string remote_address;

  // The body as a JSON object; invalid_input (400) when it is empty,
  // malformed, or not an object.
  result<json> body_json() const;
  // The query parameter, or nullopt.
  std::optional<std::string> query_value(const std::string& name) const;
};

struct response {
  unsigned status = 200;
  json body;  // serialized as the response body; null becomes "null"
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Set-Cookie
};

// {"error": {"code", "message", "field"}} with the status of error.code.
response error_response(const error& e);

using handler = std::function<awaitable<response>(request_context&)>;

// Who may call a route. admin: the principal must have the admin role (403).
enum class access { public_, authenticated, admin };

// Turns a token (from "Authorization: Bearer X" or the vcube_token cookie)
// into a principal; supplied by the daemon. Called on the connection's strand,
// so concurrently from several connections when several threads run the server.
using authenticator = std::function<result<principal>(std::string_view token)>;

}  // namespace vcube::api
