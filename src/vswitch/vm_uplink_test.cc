// node.json's optional vm_uplink (env/node_config), tested here because the
// virtual switch is what reads it.
#include <gtest/gtest.h>

#include "env/node_config.h"

namespace vcube {
namespace {

json node_json() {
  return {{"node_id", 2}, {"name", "n2"}, {"address", "10.0.0.2"}, {"cluster", "lab"}};
}

TEST(vm_uplink, is_optional_and_round_trips) {
  auto without = parse_node_config(node_json());
  ASSERT_TRUE(without.ok()) << without.err().message;
  EXPECT_EQ(without->vm_uplink, "");
  EXPECT_FALSE(to_json(*without).contains("vm_uplink"));
  json with = node_json();
  with["vm_uplink"] = "vmup";
  auto parsed = parse_node_config(with);
  ASSERT_TRUE(parsed.ok()) << parsed.err().message;
  EXPECT_EQ(parsed->vm_uplink, "vmup");
  EXPECT_EQ(to_json(*parsed), with);
}

TEST(vm_uplink, must_be_an_interface_name) {
  for (const char* bad : {"", "eth0/1", "a b", "sixteen-chars-xx", ".", "br:0"}) {
    json j = node_json();
    j["vm_uplink"] = bad;
    auto parsed = parse_node_config(j);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.err().field, "vm_uplink") << parsed.err().message;
  }
  json number = node_json();
  number["vm_uplink"] = 3;
  EXPECT_FALSE(parse_node_config(number).ok());
}

}  // namespace
}  // namespace vcube
