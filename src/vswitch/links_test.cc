#include "vswitch/links.h"

#include <gtest/gtest.h>

namespace vcube::vswitch {
namespace {

// `ip -j -d link show` of a test namespace (iproute2 6.1), trimmed to the
// fields that matter; the VLAN entry is written the way iproute2 prints one.
constexpr const char* ip_output = R"([
  {"ifname": "lo", "flags": ["LOOPBACK"], "mtu": 65536},
  {"ifname": "up0", "link": "up0p", "flags": ["NO-CARRIER", "BROADCAST", "UP", "M-DOWN"],
   "mtu": 9000, "master": "vcbr-0a1b2c3d",
   "linkinfo": {"info_kind": "veth", "info_slave_kind": "bridge"}},
  {"ifname": "vcbr-0a1b2c3d", "flags": ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"],
   "mtu": 1500, "ifalias": "vcube network lan",
   "linkinfo": {"info_kind": "bridge", "info_data": {"stp_state": 0, "nf_call_iptables": 0,
                "nf_call_ip6tables": 0, "nf_call_arptables": 0}}},
  {"ifname": "br0", "flags": ["BROADCAST"], "mtu": 1500,
   "linkinfo": {"info_kind": "bridge", "info_data": {"nf_call_iptables": 1}}},
  {"ifname": "vctap-01020304", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1400,
   "master": "vcbr-0a1b2c3d",
   "linkinfo": {"info_kind": "tun", "info_slave_kind": "bridge",
                "info_data": {"type": "tap", "pi": false, "vnet_hdr": false, "persist": true}}},
  {"ifname": "vcvlan-10", "link": "up0", "flags": ["BROADCAST", "UP"], "mtu": 1500,
   "linkinfo": {"info_kind": "vlan", "info_data": {"protocol": "802.1Q", "id": 10}}},
  {"ifname": "odd", "link": null, "master": null, "mtu": 1500}
])";

TEST(vswitch_links, reads_what_the_planners_need) {
  auto links = parse_links(ip_output);
  ASSERT_TRUE(links.ok()) << links.err().message;
  ASSERT_EQ(links->size(), 7u);
  const link& up0 = links->at("up0");
  EXPECT_EQ(up0.kind, "veth");
  EXPECT_EQ(up0.master, "vcbr-0a1b2c3d");
  EXPECT_EQ(up0.mtu, 9000);
  EXPECT_TRUE(up0.is_up);
  const link& bridge = links->at("vcbr-0a1b2c3d");
  EXPECT_EQ(bridge.kind, "bridge");
  EXPECT_EQ(bridge.alias, "vcube network lan");
  EXPECT_FALSE(bridge.calls_iptables);
  EXPECT_TRUE(links->at("br0").calls_iptables);
  EXPECT_FALSE(links->at("br0").is_up);
  const link& tap = links->at("vctap-01020304");
  EXPECT_TRUE(tap.is_tap);
  EXPECT_FALSE(tap.is_up);
  EXPECT_EQ(tap.mtu, 1400);
  const link& vlan = links->at("vcvlan-10");
  EXPECT_EQ(vlan.vlan_id, 10);
  EXPECT_EQ(vlan.parent, "up0");
  EXPECT_EQ(links->at("odd").parent, "");
  EXPECT_FALSE(links->at("lo").is_up);
}

TEST(vswitch_links, refuses_what_is_not_a_link_list) {
  EXPECT_FALSE(parse_links("").ok());
  EXPECT_FALSE(parse_links("{}").ok());
  EXPECT_FALSE(parse_links(R"([{"mtu": 1500}])").ok());  // no ifname
  auto empty = parse_links("[]");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace vcube::vswitch
