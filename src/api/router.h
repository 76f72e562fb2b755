// The route table: method + pattern ("/api/v1/domain/{kind}/{name}") → access
// level and handler. Filled once at start-up, then only read (no lock).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/handler.h"
#include "api/websocket.h"

namespace vcube::api {

struct route_match {
  const handler* fn = nullptr;                      // points into the router; lives as long as it
  const websocket_handler* websocket_fn = nullptr;  // instead of fn on a WebSocket route
  access level = access::authenticated;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> query;
};

class router {
 public:
  // `pattern` starts with '/'; a segment "{name}" matches any non-empty
  // segment and is passed as params["name"]. Asserts on a malformed pattern
  // or a duplicate method + pattern (programmer errors).
  void add(http::verb method, std::string pattern, access level, handler fn);
  // A WebSocket route: GET with "Upgrade: websocket" on `pattern` (a plain GET
  // there is answered 426). The token may also come as the query parameter
  // `token` (browsers cannot set headers on a WebSocket).
  void add_websocket(std::string pattern, access level, websocket_handler fn);

  // The route for a request target, or the finished response when there is
  // none: 404 (no such path), 405 with Allow (path exists, other methods),
  // 400 (bad percent-encoding).
  std::variant<route_match, response> find(http::verb method, std::string_view target) const;

 private:
  struct segment {
    bool is_param = false;
    std::string text;  // literal, or the parameter name
  };
  struct route {
    http::verb method;
    std::string pattern;
    std::vector<segment> segments;
    access level;
    handler fn;
    websocket_handler websocket_fn;
  };

  void add_route(route r);

  static bool matches(const route& r, const std::vector<std::string>& path,
                      std::map<std::string, std::string>* params);

  std::vector<route> routes_;
};

}  // namespace vcube::api
