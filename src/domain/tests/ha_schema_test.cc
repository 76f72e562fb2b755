// The HA and fencing kinds: field validation (schema_ha.cc) and the
// cross-object rules (rules_ha.cc) through store::apply.
#include <gtest/gtest.h>

#include "domain/schema.h"
#include "domain/store.h"
#include "domain/tests/fixtures.h"

namespace vcube::domain {
namespace {

using namespace test;

std::string bad_field(const std::string& kind, const json& value) {
  auto s = validate_object(kind, "x1", value);
  return s ? "" : s.err().field;
}

json device_value() {
  return {{"agent", "fence_redfish"},
          {"options", {{"ip", "127.0.0.1"}, {"username", "admin"}, {"password", "secret"}}},
          {"nodes", {{"n1", {{"systems_uri", "/redfish/v1/Systems/n1"}}}}},
          {"level", 1}};
}

json ha_vm_value() {
  return {{"node", "n1"},  {"target", "running"}, {"epoch", 3},    {"state", "started"},
          {"move_to", ""}, {"restarts", {1, 2}},  {"message", ""}, {"since", 5}};
}

TEST(ha_schema, accepts_valid_objects) {
  EXPECT_EQ(bad_field("fence_device", device_value()), "");
  EXPECT_EQ(bad_field("ha_vm", ha_vm_value()), "");
  EXPECT_EQ(bad_field("ha_fence", {{"state", "requested"}, {"attempts", 1}, {"owner", "n1"}}), "");
  EXPECT_EQ(bad_field("ha_request", {{"type", "move"}, {"node", "n2"}}), "");
  EXPECT_EQ(bad_field("alert", {{"severity", "critical"}, {"subject", "fence failed: n2"}}), "");
  EXPECT_EQ(bad_field("fence_log", {{"node", "n2"}, {"action", "off"}, {"ok", true}}), "");
  EXPECT_EQ(bad_field("fence_status", {{"ok", false}, {"message", "401"}}), "");
  EXPECT_EQ(bad_field("ha_manager", {{"alerted", {{"fence:n2", 1}}}}), "");
}

TEST(ha_schema, names_the_offending_field) {
  auto device = device_value();
  device["agent"] = "rm -rf";
  EXPECT_EQ(bad_field("fence_device", device), "agent");
  device = device_value();
  device["options"]["action"] = "on";
  EXPECT_EQ(bad_field("fence_device", device), "options.action");
  device = device_value();
  device["options"]["ip"] = "1.2.3.4\naction=on";
  EXPECT_EQ(bad_field("fence_device", device), "options.ip");
  device = device_value();
  device["nodes"]["n1"]["plug"] = 3;
  EXPECT_EQ(bad_field("fence_device", device), "nodes.n1.plug");
  device = device_value();
  device["level"] = 10;
  EXPECT_EQ(bad_field("fence_device", device), "level");
  device = device_value();
  device.erase("nodes");
  EXPECT_EQ(bad_field("fence_device", device), "nodes");
  auto record = ha_vm_value();
  record["state"] = "dancing";
  EXPECT_EQ(bad_field("ha_vm", record), "state");
  record = ha_vm_value();
  record["surprise"] = 1;
  EXPECT_EQ(bad_field("ha_vm", record), "surprise");
  EXPECT_EQ(bad_field("alert", {{"severity", "meh"}, {"subject", "x"}}), "severity");
}

TEST(ha_schema, vm_ha_section_and_status_epoch) {
  json vm = vm_value();
  vm["ha"] = {{"state", "started"}, {"priority", 10}, {"preferred_node", "n1"}, {"sticky", true}};
  EXPECT_EQ(bad_field("vm", vm), "");
  vm["ha"]["priority"] = 101;
  EXPECT_EQ(bad_field("vm", vm), "ha.priority");
  vm["ha"] = {{"priority", 1}};
  EXPECT_EQ(bad_field("vm", vm), "ha.state");
  json status = vm_status_value("n1", "running");
  status["ha_epoch"] = 4;
  EXPECT_EQ(bad_field("vm_status", status), "");
  status["ha_epoch"] = -1;
  EXPECT_EQ(bad_field("vm_status", status), "ha_epoch");
}

TEST(ha_schema, runtime_kinds_survive_an_import) {
  EXPECT_TRUE(is_runtime_kind("ha_vm"));
  EXPECT_TRUE(is_runtime_kind("fence_log"));
  EXPECT_FALSE(is_runtime_kind("fence_device"));
  EXPECT_FALSE(is_runtime_kind("vm"));
}

class ha_rules : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open(":memory:");
    ASSERT_TRUE(opened);
    s = std::move(*opened);
    ASSERT_TRUE(s->apply(apply_request({put("node", "n1", node_value(1, "10.0.0.1")),
                                        put("node", "n2", node_value(2, "10.0.0.2")),
                                        put("network", "lan", network_value())})));
  }
  std::unique_ptr<store> s;
};

TEST_F(ha_rules, references_must_exist) {
  json vm = vm_value();
  vm["ha"] = {{"state", "started"}, {"preferred_node", "n9"}};
  auto v = s->apply(apply_request({put("vm", "vm1", vm)}));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.err().field, "ha.preferred_node");
  auto device = device_value();
  device["nodes"]["n7"] = json::object();
  v = s->apply(apply_request({put("fence_device", "pdu", device)}));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.err().field, "nodes.n7");
  v = s->apply(apply_request({put("ha_request", "nope", {{"type", "move"}, {"node", "n2"}})}));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.err().code, errc::not_found);
}

TEST_F(ha_rules, a_fenced_node_in_use_cannot_be_removed) {
  ASSERT_TRUE(s->apply(apply_request({put("fence_device", "pdu", device_value())})));
  auto v = s->apply(apply_request({remove("node", "n1")}));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.err().code, errc::conflict);
  EXPECT_NE(v.err().message.find("in use by fence_device 'pdu'"), std::string::npos)
      << v.err().message;
}

}  // namespace
}  // namespace vcube::domain
