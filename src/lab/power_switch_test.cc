#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "env/files.h"
#include "lab/lab_state.h"
#include "lab/power_switch_log.h"
#include "lab/power_switch_routes.h"
#include "lab/power_switch_state.h"

namespace vcube::lab {
namespace {

const std::vector<power_state> two_nodes = {power_state::on, power_state::off};

routed_request route(std::string method, std::string target, std::string body = {}) {
  return route_switch_request(switch_request{std::move(method), std::move(target), std::move(body)},
                              two_nodes);
}

json body_of(const routed_request& routed) {
  return json::parse(routed.reply.body);
}

TEST(switch_routes, service_root_and_systems) {
  auto root = route("GET", "/redfish/v1/");
  EXPECT_EQ(root.reply.status, 200);
  EXPECT_EQ(body_of(root)["Systems"]["@odata.id"], "/redfish/v1/Systems");
  auto systems = route("GET", "/redfish/v1/Systems");
  EXPECT_EQ(body_of(systems)["Members"], json::parse(R"([{"@odata.id":"/redfish/v1/Systems/n1"},
                            {"@odata.id":"/redfish/v1/Systems/n2"}])"));
}

TEST(switch_routes, system_shows_power_state_and_reset_action) {
  auto n1 = route("GET", "/redfish/v1/Systems/n1?$expand=.");
  EXPECT_EQ(n1.node, 1);
  EXPECT_EQ(body_of(n1)["PowerState"], "On");
  EXPECT_EQ(body_of(n1)["Id"], "n1");
  auto reset = body_of(n1)["Actions"]["#ComputerSystem.Reset"];
  EXPECT_EQ(reset["target"], "/redfish/v1/Systems/n1/Actions/ComputerSystem.Reset");
  EXPECT_EQ(reset["ResetType@Redfish.AllowableValues"].size(), 4u);
  EXPECT_EQ(body_of(route("GET", "/redfish/v1/Systems/n2"))["PowerState"], "Off");
  EXPECT_FALSE(n1.reset.has_value());
}

TEST(switch_routes, reset_actions) {
  const std::string target = "/redfish/v1/Systems/n2/Actions/ComputerSystem.Reset";
  for (auto [name, type] : std::vector<std::pair<std::string, reset_type>>{
           {"On", reset_type::on},
           {"ForceOff", reset_type::force_off},
           {"ForceRestart", reset_type::force_restart},
           {"GracefulShutdown", reset_type::graceful_shutdown}}) {
    auto routed = route("POST", target, json{{"ResetType", name}}.dump());
    EXPECT_EQ(routed.reply.status, 204) << name;
    EXPECT_EQ(routed.node, 2);
    ASSERT_TRUE(routed.reset.has_value());
    EXPECT_EQ(*routed.reset, type);
    EXPECT_EQ(reset_type_name(type), name);
  }
  EXPECT_EQ(state_after(reset_type::graceful_shutdown), power_state::off);
  EXPECT_EQ(state_after(reset_type::force_restart), power_state::on);
}

TEST(switch_routes, errors) {
  const std::string target = "/redfish/v1/Systems/n1/Actions/ComputerSystem.Reset";
  EXPECT_EQ(route("GET", "/redfish/v2").reply.status, 404);
  EXPECT_EQ(route("GET", "/redfish/v1/Systems/n3").reply.status, 404);
  EXPECT_EQ(route("GET", "/redfish/v1/Systems/x1").reply.status, 404);
  EXPECT_EQ(route("GET", "/redfish/v1/Systems/n1/Bios").reply.status, 404);
  EXPECT_EQ(route("POST", "/redfish/v1/Systems/n1").reply.status, 405);
  EXPECT_EQ(route("GET", target).reply.status, 405);
  for (std::string body : {"", "{", "[]", R"({"ResetType": 1})", R"({"ResetType": "Nmi"})"}) {
    auto routed = route("POST", target, body);
    EXPECT_EQ(routed.reply.status, 400) << body;
    EXPECT_FALSE(routed.reset.has_value()) << body;
    EXPECT_TRUE(body_of(routed)["error"]["message"].is_string());
  }
}

TEST(switch_routes, basic_auth) {
  // "admin:s3cret" in base64.
  EXPECT_TRUE(is_authorized("Basic YWRtaW46czNjcmV0", "admin", "s3cret"));
  EXPECT_FALSE(is_authorized("Basic YWRtaW46czNjcmV1", "admin", "s3cret"));
  EXPECT_FALSE(is_authorized("Basic YWRtaW46czNjcmV0", "admin", "s3cre"));
  EXPECT_FALSE(is_authorized("Bearer YWRtaW46czNjcmV0", "admin", "s3cret"));
  EXPECT_FALSE(is_authorized("", "admin", "s3cret"));
}

TEST(switch_routes, http_rendering) {
  auto challenge = render_http_response(unauthorized_reply());
  EXPECT_TRUE(challenge.starts_with("HTTP/1.1 401 Unauthorized\r\n")) << challenge;
  EXPECT_NE(challenge.find("WWW-Authenticate: Basic"), std::string::npos);
  auto no_content = render_http_response(switch_reply{204, ""});
  EXPECT_EQ(no_content.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(no_content.ends_with("\r\n\r\n"));
  auto ok = render_http_response(switch_reply{200, "{}"});
  EXPECT_NE(ok.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_NE(ok.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(ok.ends_with("\r\n\r\n{}"));
}

TEST(switch_state, round_trips_and_validates) {
  auto j = power_states_to_json(two_nodes);
  EXPECT_EQ(j, json::parse(R"({"n1": "On", "n2": "Off"})"));
  auto back = power_states_from_json(j, 2);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, two_nodes);
  EXPECT_FALSE(power_states_from_json(j, 3).ok());
  auto bad = power_states_from_json(json::parse(R"({"n1": "On", "n2": "off"})"), 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.err().field, "n2");
}

TEST(switch_state, file_defaults_to_on_and_remembers) {
  auto path = (std::filesystem::temp_directory_path() /
               ("vcube-switch-state-" + std::to_string(getpid()) + ".json"))
                  .string();
  std::filesystem::remove(path);
  auto fresh = read_power_states(path, 3);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, std::vector<power_state>(3, power_state::on));
  ASSERT_TRUE(write_power_states(path, two_nodes).ok());
  auto again = read_power_states(path, 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, two_nodes);
  ASSERT_TRUE(env::write_file_atomic(path, "{", 0600).ok());
  EXPECT_FALSE(read_power_states(path, 2).ok());
  std::filesystem::remove(path);
}

TEST(switch_log, stable_seven_field_lines) {
  switch_log_entry entry;
  entry.unix_ms = 1'796'123'439'648;
  entry.from_node = 1;
  entry.method = "POST";
  entry.path = "/redfish/v1/Systems/n2/Actions/ComputerSystem.Reset";
  entry.system_node = 2;
  entry.reset = reset_type::force_off;
  entry.result = "204";
  EXPECT_EQ(format_switch_log_line(entry),
            "2026-12-01T11:10:39.648Z n1 POST /redfish/v1/Systems/n2/Actions/ComputerSystem.Reset "
            "n2 ForceOff 204");
  switch_log_entry dropped;
  dropped.unix_ms = 1'796'123'439'000;
  dropped.from_node = 2;
  dropped.result = "dropped";
  EXPECT_EQ(format_switch_log_line(dropped), "2026-12-01T11:10:39.000Z n2 - - - - dropped");
  dropped.method = "GET";
  dropped.path = "/a b\n";
  EXPECT_EQ(format_switch_log_line(dropped), "2026-12-01T11:10:39.000Z n2 GET /a?b? - - dropped");
}

TEST(switch_lab_state, carries_the_switch_fields) {
  lab_state state;
  state.nodes = 2;
  state.subnet = "10.231.77.0/24";
  state.password_file = "/p";
  state.switch_username = "admin";
  state.switch_password_file = "/run/vcube-lab/switch.password";
  state.switch_port = 8443;
  auto back = lab_state_from_json(lab_state_to_json(state));
  ASSERT_TRUE(back.ok()) << back.err().message;
  EXPECT_EQ(back->switch_username, "admin");
  EXPECT_EQ(back->switch_password_file, state.switch_password_file);
  EXPECT_EQ(back->switch_port, 8443);
  EXPECT_EQ(switch_systems_uri(2), "/redfish/v1/Systems/n2");
}

}  // namespace
}  // namespace vcube::lab
