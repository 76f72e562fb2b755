#include "cli/ha_commands.h"

#include <gtest/gtest.h>

#include <sstream>

namespace vcube::cli {
namespace {

std::string message_of(const error& e) {
  return e.message;
}

// Tables pad every column but the last, so a row whose last cells are empty
// ends in spaces; the expected text below leaves them out.
std::string without_trailing_spaces(const std::string& text) {
  std::istringstream lines(text);
  std::string out;
  for (std::string line; std::getline(lines, line);)
    out += line.substr(0, line.find_last_not_of(' ') + 1) + '\n';
  return out;
}

TEST(FenceOption, KeepsValuesAsStrings) {
  auto kv = parse_fence_option("ssl_insecure=1");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->first, "ssl_insecure");
  EXPECT_EQ(kv->second, "1");
  auto with_equals = parse_fence_option("password=a=b");
  ASSERT_TRUE(with_equals.ok());
  EXPECT_EQ(with_equals->second, "a=b");
}

TEST(FenceOption, NamesTheFlagInErrors) {
  auto missing = parse_fence_option("ip");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(message_of(missing.err()), "--option ip: expected key=value");
  EXPECT_FALSE(parse_fence_option("=x").ok());
}

TEST(FenceNode, NodeAloneOrWithOptions) {
  auto bare = parse_fence_node("n1");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->first, "n1");
  EXPECT_EQ(bare->second, json::object());
  // Only the first colon separates the node: URIs keep theirs.
  auto full = parse_fence_node("n2:systems_uri=/redfish/v1/Systems/n2,ip=https://192.0.2.9:8443");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->first, "n2");
  EXPECT_EQ(full->second,
            json({{"systems_uri", "/redfish/v1/Systems/n2"}, {"ip", "https://192.0.2.9:8443"}}));
}

TEST(FenceNode, RefusesMalformedInputNamingTheFlag) {
  auto no_value = parse_fence_node("n1:plug");
  ASSERT_FALSE(no_value.ok());
  EXPECT_EQ(message_of(no_value.err()), "--node n1:plug: expected key=value, got 'plug'");
  auto empty = parse_fence_node("n1:");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(message_of(empty.err()), "--node n1:: expected key=value, got ''");
  auto trailing = parse_fence_node("n1:plug=1,");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(message_of(trailing.err()), "--node n1:plug=1,: expected key=value, got ''");
  auto no_node = parse_fence_node(":plug=1");
  ASSERT_FALSE(no_node.ok());
  EXPECT_EQ(message_of(no_node.err()), "--node :plug=1: expected NODE[:key=value[,key=value...]]");
  auto twice = parse_fence_node("n1:plug=1,plug=2");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(message_of(twice.err()), "--node n1:plug=1,plug=2: plug is given twice");
}

fence_device_flags redfish_flags() {
  fence_device_flags f;
  f.agent = "fence_redfish";
  f.options = {"ip=192.0.2.10", "username=fence", "ssl_insecure=1"};
  f.nodes = {"n1:systems_uri=/redfish/v1/Systems/n1", "n2:systems_uri=/redfish/v1/Systems/n2"};
  return f;
}

TEST(FenceDeviceConfig, BuildsThePutBody) {
  auto f = redfish_flags();
  f.level = 2;
  f.description = "rack 4";
  auto config = fence_device_config(f, std::string("s3cret"));
  ASSERT_TRUE(config.ok()) << config.err().message;
  EXPECT_EQ(*config, json({{"agent", "fence_redfish"},
                           {"options",
                            {{"ip", "192.0.2.10"},
                             {"username", "fence"},
                             {"ssl_insecure", "1"},
                             {"password", "s3cret"}}},
                           {"nodes",
                            {{"n1", {{"systems_uri", "/redfish/v1/Systems/n1"}}},
                             {"n2", {{"systems_uri", "/redfish/v1/Systems/n2"}}}}},
                           {"level", 2},
                           {"description", "rack 4"}}));
}

TEST(FenceDeviceConfig, LeavesOutWhatWasNotGiven) {
  fence_device_flags f;
  f.agent = "fence_ipmilan";
  f.nodes = {"n1"};
  auto config = fence_device_config(f, std::nullopt);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*config, json({{"agent", "fence_ipmilan"}, {"nodes", {{"n1", json::object()}}}}));
}

TEST(FenceDeviceConfig, RefusesAmbiguousInput) {
  auto two_passwords = redfish_flags();
  two_passwords.options.push_back("password=x");
  auto r = fence_device_config(two_passwords, std::string("y"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(message_of(r.err()).find("--password-file"), std::string::npos);

  auto option_twice = redfish_flags();
  option_twice.options.push_back("ip=192.0.2.11");
  r = fence_device_config(option_twice, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_of(r.err()), "--option ip=192.0.2.11: ip is given twice");

  auto node_twice = redfish_flags();
  node_twice.nodes.push_back("n1:systems_uri=/x");
  r = fence_device_config(node_twice, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_of(r.err()), "--node n1:systems_uri=/x: node n1 is given twice");

  auto no_nodes = redfish_flags();
  no_nodes.nodes.clear();
  EXPECT_FALSE(fence_device_config(no_nodes, std::nullopt).ok());

  auto bad_node = redfish_flags();
  bad_node.nodes.push_back("n3:plug");
  r = fence_device_config(bad_node, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_of(r.err()), "--node n3:plug: expected key=value, got 'plug'");
}

TEST(VmHa, SectionOnlyWithHaFlag) {
  vm_ha_flags flags;
  auto none = ha_section(false, flags);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->is_null());
  auto plain = ha_section(true, flags);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, json({{"state", "stopped"}}));
  flags = {50, true, "n2"};
  auto full = ha_section(true, flags);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(
      *full,
      json({{"state", "stopped"}, {"priority", 50}, {"sticky", true}, {"preferred_node", "n2"}}));
  EXPECT_FALSE(ha_section(false, flags).ok());
  EXPECT_EQ(ha_settings({}), json::object());
}

// 1714564800000 ms is 2024-05-01 12:00:00 UTC.
const char* const ha_body = R"({
  "manager": "n1", "is_quorate": true,
  "vms": [
    {"name": "db", "node": "n2", "state": "started", "target": "running", "ha": "yes/sticky",
     "preferred_node": "", "priority": 90, "run_state": "running", "message": "", "restarts": 0},
    {"name": "web", "node": "n3", "state": "recovering", "target": "running", "ha": "yes",
     "preferred_node": "n1", "priority": 10, "run_state": "stopped",
     "message": "node n1 failed; fenced", "restarts": 1}],
  "fences": [{"node": "n1", "state": "failed", "attempts": 2,
              "message": "fence_redfish: timed out", "requested_at": 1714564800000}],
  "devices": [
    {"name": "bmc-a", "agent": "fence_redfish", "nodes": ["n1", "n2"], "ok": false,
     "message": "connection refused", "checked_at": 1714564805000},
    {"name": "bmc-b", "agent": "fence_ipmilan", "nodes": ["n3"], "ok": null, "message": "",
     "checked_at": 0}],
  "alerts": [
    {"name": "a6", "severity": "critical", "subject": "fencing n1 failed", "text": "t6", "at": 1714564806000},
    {"name": "a5", "severity": "warning", "subject": "s5", "text": "t5", "at": 1714564805000},
    {"name": "a4", "severity": "info", "subject": "s4", "text": "t4", "at": 1714564804000},
    {"name": "a3", "severity": "info", "subject": "s3", "text": "t3", "at": 1714564803000},
    {"name": "a2", "severity": "info", "subject": "s2", "text": "t2", "at": 1714564802000},
    {"name": "a1", "severity": "info", "subject": "s1", "text": "t1", "at": 1714564801000}]
})";

TEST(HaStatus, RendersEverySection) {
  auto body = parse_json(ha_body);
  ASSERT_TRUE(body.ok()) << body.err().message;
  std::ostringstream out;
  render_ha_status(*body, out);
  EXPECT_EQ(without_trailing_spaces(out.str()), R"(manager   n1
quorum    yes

HA VMS
NAME  NODE  HA          STATE       TARGET   PREFERRED  MESSAGE
db    n2    yes/sticky  started     running
web   n3    yes         recovering  running  n1         node n1 failed; fenced

FENCES
NODE  STATE   ATTEMPTS  REQUESTED             MESSAGE
n1    failed  2         2024-05-01 12:00:00Z  fence_redfish: timed out

FENCE DEVICES
DEVICE  AGENT          NODES  HEALTH     CHECKED               MESSAGE
bmc-a   fence_redfish  n1,n2  FAILED     2024-05-01 12:00:05Z  connection refused
bmc-b   fence_ipmilan  n3     unchecked  -

LAST ALERTS
AT                    SEVERITY  SUBJECT            TEXT
2024-05-01 12:00:06Z  critical  fencing n1 failed  t6
2024-05-01 12:00:05Z  warning   s5                 t5
2024-05-01 12:00:04Z  info      s4                 t4
2024-05-01 12:00:03Z  info      s3                 t3
2024-05-01 12:00:02Z  info      s2                 t2
(`vcube alerts` shows more)
)");
}

TEST(HaStatus, WithoutQuorumOrAnything) {
  std::ostringstream out;
  render_ha_status(json{{"manager", ""}, {"is_quorate", false}}, out);
  EXPECT_EQ(out.str(), R"(manager   none (no quorum, or being elected)
quorum    NO (HA acts only in a quorate partition)

HA VMS
none

FENCES
none

FENCE DEVICES
none

LAST ALERTS
none
)");
}

}  // namespace
}  // namespace vcube::cli
