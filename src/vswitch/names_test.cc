#include "vswitch/names.h"

#include <gtest/gtest.h>

namespace vcube::vswitch {
namespace {

// Fixed values: names must not change between versions (running VMs' taps
// and existing bridges are found again by them). Computed independently.
TEST(vswitch_names, are_stable_fnv1a_hashes) {
  EXPECT_EQ(fnv1a32(""), 0x811c9dc5u);
  EXPECT_EQ(fnv1a32("a"), 0xe40c292cu);
  EXPECT_EQ(bridge_name("lan"), "vcbr-56608010");
  EXPECT_EQ(bridge_name("wan"), "vcbr-2be2e301");
  EXPECT_EQ(tap_name("web", 0), "vctap-734dbd09");
  EXPECT_EQ(tap_name("web", 1), "vctap-724dbb76");
  EXPECT_EQ(vlan_port_name(10), "vcvlan-10");
}

TEST(vswitch_names, fit_in_fifteen_bytes_whatever_the_input) {
  std::string long_name(300, 'x');
  EXPECT_LE(bridge_name(long_name).size(), interface_name_bytes_max);
  EXPECT_LE(tap_name(long_name, nics_per_vm_max - 1).size(), interface_name_bytes_max);
  EXPECT_LE(vlan_port_name(4094).size(), interface_name_bytes_max);
  EXPECT_NE(tap_name("web", 0), tap_name("web", 1));
  EXPECT_NE(tap_name("web1", 0), tap_name("web", 10));
}

TEST(vswitch_names, recognise_only_their_own_shapes) {
  EXPECT_TRUE(is_bridge_name(bridge_name("lan")));
  EXPECT_TRUE(is_tap_name(tap_name("web", 3)));
  EXPECT_TRUE(is_vlan_port_name(vlan_port_name(4094)));
  EXPECT_FALSE(is_bridge_name("vcbr-lan"));
  EXPECT_FALSE(is_bridge_name("vcbr-5660801"));
  EXPECT_FALSE(is_bridge_name("br0"));
  EXPECT_FALSE(is_tap_name("vctap-ABCDEF12"));
  EXPECT_FALSE(is_vlan_port_name("vcvlan-"));
  EXPECT_FALSE(is_vlan_port_name("vcvlan-12345"));
  EXPECT_FALSE(is_vlan_port_name("eth0.10"));
}

}  // namespace
}  // namespace vcube::vswitch
