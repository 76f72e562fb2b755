// The lab power switch's Redfish subset as a pure function from a request to
// a reply (plus the power action the caller must carry out), and its HTTP
// Basic authentication. No sockets, no processes: see power_switch_server.h.
//
//   GET  /redfish/v1                                          service root
//   GET  /redfish/v1/Systems                                  n1..nN
//   GET  /redfish/v1/Systems/nK                               PowerState On|Off
//   POST /redfish/v1/Systems/nK/Actions/ComputerSystem.Reset  {"ResetType": ...} -> 204
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vcube::lab {

enum class power_state { on, off };
// GracefulShutdown is a ForceOff: the switch cuts power, it cannot ask an OS.
enum class reset_type { on, force_off, force_restart, graceful_shutdown };

const char* power_state_name(power_state state);  // "On", "Off"
const char* reset_type_name(reset_type type);     // "On", "ForceOff", ...
// The state a reset leaves the system in.
power_state state_after(reset_type type);

struct switch_request {
  std::string method;  // "GET", "POST"
  std::string target;  // "/redfish/v1/Systems/n2?x" (a query is ignored)
  std::string body;
};

struct switch_reply {
  int status = 200;
  std::string body;           // JSON, or empty (204)
  bool is_challenge = false;  // 401: ask for Basic credentials
};

struct routed_request {
  switch_reply reply;               // for a reset: what to answer once it has been carried out
  int node = 0;                     // the system the path names (1..N), 0 for none
  std::optional<reset_type> reset;  // set: perform it on `node`, then answer
};

inline constexpr std::size_t request_body_bytes_max = 4096;

// `states[k - 1]` is node k's power state; its size is the node count.
routed_request route_switch_request(const switch_request& request,
                                    const std::vector<power_state>& states);

// A Redfish-style error body {"error": {"code", "message"}}.
switch_reply error_reply(int status, std::string_view message);

// 401 with a Basic challenge.
switch_reply unauthorized_reply();

// The whole HTTP/1.1 response; always "Connection: close" (one request per
// connection keeps a node's socket from being held between requests).
std::string render_http_response(const switch_reply& reply);

// Whether an Authorization header value is "Basic base64(username:password)";
// compares in constant time.
bool is_authorized(std::string_view authorization, std::string_view username,
                   std::string_view password);

// "/redfish/v1/Systems/n2": the systems URI fence_redfish needs for node k.
std::string switch_systems_uri(int node);

}  // namespace vcube::lab
