#include "domain/schema.h"

#include <gtest/gtest.h>

#include "domain/tests/fixtures.h"

namespace vcube::domain {
namespace {

using namespace test;

void expect_invalid(std::string_view kind, std::string_view name, const json& value,
                    const std::string& field, const std::string& message_part = "") {
  auto s = validate_object(kind, name, value);
  ASSERT_FALSE(s.ok()) << kind << " " << value.dump();
  EXPECT_EQ(s.err().code, errc::invalid_input);
  EXPECT_EQ(s.err().field, field) << s.err().message;
  if (!message_part.empty()) {
    EXPECT_NE(s.err().message.find(message_part), std::string::npos) << s.err().message;
  }
}

json with(json v, const std::string& key, json value) {
  v[key] = std::move(value);
  return v;
}
json without(json v, const std::string& key) {
  v.erase(key);
  return v;
}

TEST(schema, known_kinds) {
  for (auto k : {"cluster", "node", "host", "network", "user", "group", "vm", "vm_status"})
    EXPECT_TRUE(is_known_kind(k));
  EXPECT_FALSE(is_known_kind("vms"));
  EXPECT_FALSE(is_known_kind(""));
}

TEST(schema, valid_objects_pass) {
  EXPECT_TRUE(validate_object("cluster", "cluster", cluster_value()).ok());
  EXPECT_TRUE(validate_object("cluster", "cluster", {{"name", "lab"}}).ok());
  EXPECT_TRUE(validate_object("node", "n1", node_value(1, "10.0.0.1")).ok());
  EXPECT_TRUE(validate_object("node", "n2", node_value(65535, "fd00::2")).ok());
  EXPECT_TRUE(validate_object("host", "h1", {{"address", "h1.example.com"}}).ok());
  EXPECT_TRUE(validate_object("host", "h2", {{"address", "10.0.0.9"}}).ok());
  EXPECT_TRUE(validate_object("network", "lan", network_value()).ok());
  EXPECT_TRUE(validate_object("network", "v6", {{"vlan", 0}, {"cidr", "fd00::/64"}}).ok());
  EXPECT_TRUE(validate_object("user", "alice@example.com", user_value()).ok());
  EXPECT_TRUE(validate_object("user", "bob", {{"password_hash", "$scrypt$x"}}).ok());
  EXPECT_TRUE(validate_object("group", "ops", group_value()).ok());
  EXPECT_TRUE(validate_object("group", "empty", json::object()).ok());
}

TEST(schema, names) {
  EXPECT_TRUE(validate_name("network", "a").ok());
  EXPECT_TRUE(validate_name("network", "lan-1.b_c").ok());
  EXPECT_TRUE(validate_name("network", std::string(63, 'a')).ok());
  EXPECT_FALSE(validate_name("network", std::string(64, 'a')).ok());
  EXPECT_FALSE(validate_name("network", "").ok());
  EXPECT_FALSE(validate_name("network", "Lan").ok());
  EXPECT_FALSE(validate_name("network", "-lan").ok());
  EXPECT_FALSE(validate_name("network", ".lan").ok());
  EXPECT_FALSE(validate_name("network", "l an").ok());
  EXPECT_FALSE(validate_name("network", "a@b").ok());
  EXPECT_TRUE(validate_name("user", "a@b").ok());
  EXPECT_FALSE(validate_name("user", "@b").ok());
  EXPECT_FALSE(validate_name("cluster", "lab").ok());
  EXPECT_TRUE(validate_name("cluster", "cluster").ok());
  auto s = validate_name("vms", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().field, "kind");
  EXPECT_EQ(validate_name("host", "X").err().field, "name");
}

TEST(schema, value_must_be_object) {
  expect_invalid("host", "h", json::array(), "value");
  expect_invalid("host", "h", "text", "value");
}

TEST(schema, unknown_fields_refused) {
  expect_invalid("cluster", "cluster", with(cluster_value(), "colour", 1), "colour", "unknown");
  expect_invalid("node", "n1", with(node_value(1, "10.0.0.1"), "x", 1), "x");
  expect_invalid("host", "h", {{"address", "h"}, {"port", 22}}, "port");
  expect_invalid("network", "lan", with(network_value(), "gateway", "10.1.0.1"), "gateway");
  expect_invalid("user", "u", with(user_value(), "password", "secret"), "password");
  expect_invalid("group", "g", with(group_value(), "members", json::array()), "members");
}

TEST(schema, cluster_rules) {
  expect_invalid("cluster", "cluster", without(cluster_value(), "name"), "name", "required");
  expect_invalid("cluster", "cluster", with(cluster_value(), "name", "Bad Name"), "name");
  expect_invalid("cluster", "cluster", with(cluster_value(), "admin_email", "nobody"),
                 "admin_email");
  expect_invalid("cluster", "cluster", with(cluster_value(), "mail_relay", "a b"), "mail_relay");
  expect_invalid("cluster", "cluster", with(cluster_value(), "mail_relay", "smtp:99999"),
                 "mail_relay");
  expect_invalid("cluster", "cluster", with(cluster_value(), "dns_servers", {"dns.example.com"}),
                 "dns_servers");
  expect_invalid("cluster", "cluster", with(cluster_value(), "dns_servers", "10.0.0.1"),
                 "dns_servers");
  expect_invalid("cluster", "cluster", with(cluster_value(), "ntp_servers", {1}), "ntp_servers");
  expect_invalid("cluster", "cluster", with(cluster_value(), "ntp_servers", {"a", "a"}),
                 "ntp_servers", "twice");
}

TEST(schema, node_rules) {
  json n = node_value(1, "10.0.0.1");
  expect_invalid("node", "n1", without(n, "id"), "id", "required");
  expect_invalid("node", "n1", with(n, "id", 0), "id", "between 1 and 65535 (got 0)");
  expect_invalid("node", "n1", with(n, "id", 65536), "id");
  expect_invalid("node", "n1", with(n, "id", "1"), "id", "integer");
  expect_invalid("node", "n1", with(n, "id", 1.5), "id");
  expect_invalid("node", "n1", without(n, "addresses"), "addresses");
  expect_invalid("node", "n1", with(n, "addresses", json::array()), "addresses");
  expect_invalid("node", "n1", with(n, "addresses", {"n1.example.com"}), "addresses");
  expect_invalid("node", "n1", with(n, "addresses", {"10.0.0.1/24"}), "addresses");
  expect_invalid("node", "n1", with(n, "addresses", {"300.0.0.1"}), "addresses");
  expect_invalid("node", "n1", without(n, "mode"), "mode");
  expect_invalid("node", "n1", with(n, "mode", "offline"), "mode");
  expect_invalid("node", "n1", with(n, "mode", true), "mode");
}

TEST(schema, host_rules) {
  expect_invalid("host", "h", json::object(), "address", "required");
  expect_invalid("host", "h", {{"address", "bad host!"}}, "address");
  expect_invalid("host", "h", {{"address", 7}}, "address");
  expect_invalid("host", "h", {{"address", "h"}, {"description", 1}}, "description");
  expect_invalid("host", "h", {{"address", "h"}, {"description", std::string(2000, 'x')}},
                 "description");
}

TEST(schema, network_rules) {
  auto s = validate_object("network", "lan", network_value(10, 70000));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().message, "network 'lan': mtu must be between 576 and 9216 (got 70000)");
  EXPECT_EQ(s.err().field, "mtu");
  expect_invalid("network", "lan", network_value(10, 575), "mtu");
  EXPECT_TRUE(validate_object("network", "lan", network_value(10, 576)).ok());
  EXPECT_TRUE(validate_object("network", "lan", network_value(4094, 9216)).ok());
  expect_invalid("network", "lan", network_value(4095), "vlan");
  expect_invalid("network", "lan", network_value(-1), "vlan");
  expect_invalid("network", "lan", without(network_value(), "vlan"), "vlan");
  expect_invalid("network", "lan", without(network_value(), "cidr"), "cidr");
  for (auto bad :
       {"10.1.0.0", "10.1.0.0/33", "fd00::/129", "x/24", "10.1.0.0/", "/24", "10.1.0.0/2a"})
    expect_invalid("network", "lan", with(network_value(), "cidr", bad), "cidr");
  expect_invalid("network", "lan", with(network_value(), "mtu", "1500"), "mtu");
}

TEST(schema, user_rules) {
  expect_invalid("user", "u", without(user_value(), "password_hash"), "password_hash");
  expect_invalid("user", "u", with(user_value(), "password_hash", "plain"), "password_hash");
  expect_invalid("user", "u", with(user_value(), "roles", {"root"}), "roles");
  expect_invalid("user", "u", with(user_value(), "roles", "admin"), "roles");
  expect_invalid("user", "u", with(user_value(), "groups", {"Bad"}), "groups");
  expect_invalid("user", "u", with(user_value(), "email", "x"), "email");
  expect_invalid("user", "u", with(user_value(), "enabled", "yes"), "enabled");
}

TEST(schema, group_rules) {
  expect_invalid("group", "g", with(group_value(), "roles", {"superuser"}), "roles");
  expect_invalid("group", "g", with(group_value(), "roles", {"admin", "admin"}), "roles");
  expect_invalid("group", "g", with(group_value(), "description", json::array()), "description");
}

}  // namespace
}  // namespace vcube::domain
