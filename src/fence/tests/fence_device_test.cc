#include "fence/fence_device.h"

#include <gtest/gtest.h>

#include "fence/agent_runner.h"

namespace vcube::fence {
namespace {

json good_device() {
  return json{{"agent", "fence_redfish"},
              {"options",
               {{"ip", "127.0.0.1"},
                {"ipport", "8443"},
                {"username", "admin"},
                {"password", "secret"},
                {"ssl_insecure", "1"}}},
              {"nodes",
               {{"n1", {{"systems_uri", "/redfish/v1/Systems/n1"}}},
                {"n2", {{"systems_uri", "/redfish/v1/Systems/n2"}}}}},
              {"level", 2},
              {"description", "lab switch"}};
}

// The field named by the error when `mutate` breaks the good device.
std::string error_field(const std::function<void(json&)>& mutate) {
  json j = good_device();
  mutate(j);
  auto parsed = parse_fence_device("sw", j);
  EXPECT_FALSE(parsed.ok()) << j.dump();
  if (parsed)
    return "(parsed)";
  EXPECT_EQ(parsed.err().code, errc::invalid_input);
  return parsed.err().field;
}

TEST(fence_device, parses_and_round_trips) {
  auto parsed = parse_fence_device("sw", good_device());
  ASSERT_TRUE(parsed.ok()) << parsed.err().message;
  EXPECT_EQ(parsed->name, "sw");
  EXPECT_EQ(parsed->agent, "fence_redfish");
  EXPECT_EQ(parsed->options.at("ipport"), "8443");
  EXPECT_EQ(parsed->node_options.at("n2").at("systems_uri"), "/redfish/v1/Systems/n2");
  EXPECT_EQ(parsed->level, 2);
  auto again = parse_fence_device("sw", fence_device_to_json(*parsed));
  ASSERT_TRUE(again.ok()) << again.err().message;
  EXPECT_EQ(*again, *parsed);
}

TEST(fence_device, defaults_level_and_options) {
  auto parsed =
      parse_fence_device("x", json{{"agent", "fence_dummy"}, {"nodes", {{"n1", json::object()}}}});
  ASSERT_TRUE(parsed.ok()) << parsed.err().message;
  EXPECT_EQ(parsed->level, 1);
  EXPECT_TRUE(parsed->options.empty());
  EXPECT_TRUE(parsed->node_options.at("n1").empty());
  EXPECT_EQ(fence_device_to_json(*parsed)["nodes"]["n1"], json::object());
}

TEST(fence_device, errors_name_the_field) {
  EXPECT_EQ(error_field([](json& j) { j.erase("agent"); }), "agent");
  EXPECT_EQ(error_field([](json& j) { j["agent"] = "redfish"; }), "agent");
  EXPECT_EQ(error_field([](json& j) { j["agent"] = "fence_../../bin/sh"; }), "agent");
  EXPECT_EQ(error_field([](json& j) { j["agent"] = "fence_" + std::string(61, 'a'); }), "agent");
  EXPECT_EQ(error_field([](json& j) { j["extra"] = 1; }), "extra");
  EXPECT_EQ(error_field([](json& j) { j["options"]["Ip"] = "x"; }), "options.Ip");
  EXPECT_EQ(error_field([](json& j) { j["options"]["action"] = "off"; }), "options.action");
  EXPECT_EQ(error_field([](json& j) { j["options"]["ipport"] = 8443; }), "options.ipport");
  EXPECT_EQ(error_field([](json& j) { j["options"]["ip"] = std::string(1025, 'a'); }),
            "options.ip");
  EXPECT_EQ(error_field([](json& j) { j["options"]["ip"] = "1.2.3.4\naction=on"; }), "options.ip");
  EXPECT_EQ(error_field([](json& j) { j["options"]["ip"] = std::string("a\0b", 3); }),
            "options.ip");
  EXPECT_EQ(error_field([](json& j) { j["options"] = "ip=1"; }), "options");
  EXPECT_EQ(error_field([](json& j) { j["nodes"]["n1"]["action"] = "on"; }), "nodes.n1.action");
  EXPECT_EQ(error_field([](json& j) { j["nodes"]["n1"]["plug"] = "a\rb"; }), "nodes.n1.plug");
  EXPECT_EQ(error_field([](json& j) { j["nodes"]["n 1"] = json::object(); }), "nodes.n 1");
  EXPECT_EQ(error_field([](json& j) { j["nodes"]["n1"] = "plug=1"; }), "nodes.n1");
  EXPECT_EQ(error_field([](json& j) { j["nodes"] = json::object(); }), "nodes");
  EXPECT_EQ(error_field([](json& j) { j.erase("nodes"); }), "nodes");
  EXPECT_EQ(error_field([](json& j) {
              for (int k = 0; k < 65; ++k)
                j["nodes"]["m" + std::to_string(k)] = json::object();
            }),
            "nodes");
  EXPECT_EQ(error_field([](json& j) { j["level"] = 0; }), "level");
  EXPECT_EQ(error_field([](json& j) { j["level"] = 10; }), "level");
  EXPECT_EQ(error_field([](json& j) { j["level"] = "1"; }), "level");
  EXPECT_EQ(error_field([](json& j) { j["description"] = std::string(1025, 'd'); }), "description");
}

TEST(fence_device, option_limits_are_inclusive) {
  json j = good_device();
  j["options"]["ip"] = std::string(1024, 'a');
  j["options"]["k" + std::string(63, 'a')] = "v";
  j["level"] = 9;
  EXPECT_TRUE(parse_fence_device("sw", j).ok());
}

TEST(fence_device, agent_names) {
  EXPECT_TRUE(is_valid_agent_name("fence_redfish"));
  EXPECT_TRUE(is_valid_agent_name("fence_ipmilan"));
  EXPECT_FALSE(is_valid_agent_name("fence_"));
  EXPECT_FALSE(is_valid_agent_name("fence_Redfish"));
  EXPECT_FALSE(is_valid_agent_name("fence_a-b"));
  EXPECT_FALSE(is_valid_agent_name("xfence_a"));
  EXPECT_EQ(agent_path("fence_redfish"), "/usr/sbin/fence_redfish");
}

TEST(fence_device, redacts_secrets_everywhere) {
  auto device = parse_fence_device("sw", good_device()).value();
  device.options["community"] = "public";
  device.node_options["n1"]["identity_file"] = "/root/.ssh/id";
  auto shown = redact_secrets(device);
  EXPECT_EQ(shown.options.at("password"), "********");
  EXPECT_EQ(shown.options.at("community"), "********");
  EXPECT_EQ(shown.node_options.at("n1").at("identity_file"), "********");
  EXPECT_EQ(shown.options.at("username"), "admin");
  EXPECT_EQ(shown.node_options.at("n1").at("systems_uri"), "/redfish/v1/Systems/n1");
  for (auto key : {"password", "passwd", "community", "snmp_priv_passwd", "identity_file"})
    EXPECT_TRUE(is_secret_option(key)) << key;
  EXPECT_FALSE(is_secret_option("username"));
}

TEST(fence_device, devices_for_node_by_level_then_name) {
  auto make = [](std::string name, int level, std::vector<std::string> nodes) {
    fence_device d;
    d.name = std::move(name);
    d.agent = "fence_dummy";
    d.level = level;
    for (auto& n : nodes)
      d.node_options[n] = {};
    return d;
  };
  std::vector<fence_device> all = {make("pdu-b", 2, {"n1"}), make("ipmi", 1, {"n1", "n2"}),
                                   make("pdu-a", 2, {"n1"}), make("other", 1, {"n2"})};
  std::vector<std::string> names;
  for (const auto& d : devices_for_node(all, "n1"))
    names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"ipmi", "pdu-a", "pdu-b"}));
  EXPECT_TRUE(devices_for_node(all, "n3").empty());
}

TEST(agent_input, shared_then_node_options_then_action) {
  auto device = parse_fence_device("sw", good_device()).value();
  EXPECT_EQ(render_agent_input(device, "n2", fence_action::off),
            "ip=127.0.0.1\nipport=8443\npassword=secret\nssl_insecure=1\nusername=admin\n"
            "systems_uri=/redfish/v1/Systems/n2\naction=off\n");
  EXPECT_EQ(render_agent_input(device, "", fence_action::monitor),
            "ip=127.0.0.1\nipport=8443\npassword=secret\nssl_insecure=1\nusername=admin\n"
            "action=monitor\n");
}

}  // namespace
}  // namespace vcube::fence
