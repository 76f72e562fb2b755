#include "lab/power_switch_routes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <boost/beast/http/status.hpp>

#include "common/json.h"
#include "lab/names.h"

namespace vcube::lab {
namespace {

constexpr std::string_view root_path = "/redfish/v1";
constexpr std::string_view systems_path = "/redfish/v1/Systems";
constexpr std::string_view reset_suffix = "/Actions/ComputerSystem.Reset";

switch_reply json_reply(const json& body) {
  return switch_reply{200, body.dump()};
}

routed_request answer(switch_reply reply, int node = 0) {
  routed_request routed;
  routed.reply = std::move(reply);
  routed.node = node;
  return routed;
}

// "/redfish/v1/Systems/" without query and trailing slash.
std::string_view normalized_path(std::string_view target) {
  target = target.substr(0, target.find('?'));
  while (target.size() > 1 && target.back() == '/')
    target.remove_suffix(1);
  return target;
}

// "n2" -> 2 when 1 <= 2 <= node_count, else 0.
int parse_system_id(std::string_view id, int node_count) {
  if (id.size() != 2 || id[0] != 'n' || id[1] < '1' || id[1] > '9')
    return 0;
  int k = id[1] - '0';
  return k <= node_count ? k : 0;
}

json system_resource(int k, power_state state) {
  std::string uri = switch_systems_uri(k);
  return json{{"@odata.id", uri},
              {"@odata.type", "#ComputerSystem.v1_10_0.ComputerSystem"},
              {"Id", node_name(k)},
              {"Name", "vcube lab node " + node_name(k)},
              {"PowerState", power_state_name(state)},
              {"Actions",
               {{"#ComputerSystem.Reset",
                 {{"target", uri + std::string(reset_suffix)},
                  {"ResetType@Redfish.AllowableValues",
                   {"On", "ForceOff", "ForceRestart", "GracefulShutdown"}}}}}}};
}

json systems_collection(int node_count) {
  json members = json::array();
  for (int k = 1; k <= node_count; ++k)
    members.push_back({{"@odata.id", switch_systems_uri(k)}});
  return json{{"@odata.id", systems_path},
              {"@odata.type", "#ComputerSystemCollection.ComputerSystemCollection"},
              {"Name", "Computer System Collection"},
              {"Members@odata.count", node_count},
              {"Members", members}};
}

json service_root() {
  return json{{"@odata.id", root_path},    {"@odata.type", "#ServiceRoot.v1_5_0.ServiceRoot"},
              {"Id", "RootService"},       {"Name", "vcube lab power switch"},
              {"RedfishVersion", "1.6.0"}, {"Systems", {{"@odata.id", systems_path}}}};
}

std::optional<reset_type> parse_reset_type(std::string_view name) {
  for (auto type : {reset_type::on, reset_type::force_off, reset_type::force_restart,
                    reset_type::graceful_shutdown}) {
    if (name == reset_type_name(type))
      return type;
  }
  return std::nullopt;
}

routed_request route_reset(const switch_request& request, int k) {
  if (request.method != "POST")
    return answer(error_reply(405, "use POST for a reset action"), k);
  routed_request routed = answer(switch_reply{204, ""}, k);
  auto body = parse_json(request.body);
  if (!body || !body->is_object() || !body->contains("ResetType") ||
      !(*body)["ResetType"].is_string())
    return answer(error_reply(400, "expected a JSON object with a string ResetType"), k);
  routed.reset = parse_reset_type((*body)["ResetType"].get<std::string>());
  if (!routed.reset)
    return answer(error_reply(400,
                              "ResetType must be one of On, ForceOff, ForceRestart, "
                              "GracefulShutdown"),
                  k);
  return routed;
}

// GET on a system's path, or its reset action.
routed_request route_system(const switch_request& request, std::string_view rest,
                            const std::vector<power_state>& states) {
  auto slash = rest.find('/');
  int k = parse_system_id(rest.substr(0, slash), static_cast<int>(states.size()));
  if (k == 0)
    return answer(error_reply(404, "no such system"));
  if (slash != std::string_view::npos) {
    if (rest.substr(slash) != reset_suffix)
      return answer(error_reply(404, "no such resource"), k);
    return route_reset(request, k);
  }
  if (request.method != "GET")
    return answer(error_reply(405, "use GET"), k);
  return answer(json_reply(system_resource(k, states[k - 1])), k);
}

}  // namespace

const char* power_state_name(power_state state) {
  return state == power_state::on ? "On" : "Off";
}

const char* reset_type_name(reset_type type) {
  switch (type) {
    case reset_type::on:
      return "On";
    case reset_type::force_off:
      return "ForceOff";
    case reset_type::force_restart:
      return "ForceRestart";
    case reset_type::graceful_shutdown:
      return "GracefulShutdown";
  }
  return "?";
}

power_state state_after(reset_type type) {
  return type == reset_type::on || type == reset_type::force_restart ? power_state::on
                                                                     : power_state::off;
}

std::string switch_systems_uri(int node) {
  return std::string(systems_path) + "/" + node_name(node);
}

switch_reply error_reply(int status, std::string_view message) {
  json body = {{"error",
                {{"code", "Base.1.0.GeneralError"},
                 {"message", std::string(message)},
                 {"@Message.ExtendedInfo", json::array()}}}};
  return switch_reply{status, body.dump()};
}

routed_request route_switch_request(const switch_request& request,
                                    const std::vector<power_state>& states) {
  auto path = normalized_path(request.target);
  int node_count = static_cast<int>(states.size());
  std::string systems_prefix = std::string(systems_path) + "/";
  if (path.starts_with(systems_prefix))
    return route_system(request, path.substr(systems_prefix.size()), states);
  if (path != root_path && path != systems_path)
    return answer(error_reply(404, "no such resource"));
  if (request.method != "GET")
    return answer(error_reply(405, "use GET"));
  return answer(json_reply(path == root_path ? service_root() : systems_collection(node_count)));
}

switch_reply unauthorized_reply() {
  auto reply = error_reply(401, "wrong or missing credentials");
  reply.is_challenge = true;
  return reply;
}

std::string render_http_response(const switch_reply& reply) {
  namespace http = boost::beast::http;
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                    std::string(http::obsolete_reason(static_cast<http::status>(reply.status))) +
                    "\r\nConnection: close\r\nOData-Version: 4.0\r\n";
  if (reply.is_challenge)
    out += "WWW-Authenticate: Basic realm=\"vcube lab switch\"\r\n";
  // RFC 9110: a 204 carries neither a body nor a Content-Length.
  if (reply.status != 204)
    out +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) +
        "\r\n";
  return out + "\r\n" + (reply.status != 204 ? reply.body : "");
}

bool is_authorized(std::string_view authorization, std::string_view username,
                   std::string_view password) {
  constexpr std::string_view scheme = "Basic ";
  if (!authorization.starts_with(scheme))
    return false;
  authorization.remove_prefix(scheme.size());
  std::string plain = std::string(username) + ":" + std::string(password);
  // Encoding what we expect and comparing avoids decoding untrusted base64.
  std::string expected(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()),
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size()));
  expected.resize(static_cast<size_t>(n));
  return authorization.size() == expected.size() &&
         CRYPTO_memcmp(authorization.data(), expected.data(), expected.size()) == 0;
}

}  // namespace vcube::lab
