// Expected transcripts of the network planner, one ip command per line.
#include "vswitch/network_plan.h"

#include <gtest/gtest.h>

#include "vswitch/names.h"
#include "vswitch/test_links.h"

namespace vcube::vswitch {
namespace {

using testing::apply_commands;
using testing::links_of;
using testing::make_link;
using testing::nic;
using testing::tap_on;

constexpr const char* nf_off = "nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0";

std::vector<network> three_networks() {
  return {{"wan", 10, 1500}, {"lan", 0, 1500}, {"storage", 20, 9000}};
}

// The node after applying the plan for `networks` to a fresh node with eth1.
link_map applied(const std::vector<network>& networks, link_map links = links_of({nic("eth1")})) {
  auto plan = plan_networks(networks, "eth1", links);
  EXPECT_TRUE(plan.problems.empty());
  apply_commands(links, plan.commands);
  return links;
}

std::string transcript(const network_plan& plan) {
  return format_commands(plan.commands);
}

TEST(network_plan, creates_every_bridge_from_nothing) {
  auto plan = plan_networks(three_networks(), "eth1", links_of({nic("eth1")}));
  EXPECT_TRUE(plan.problems.empty());
  std::string expected = R"(ip link set dev eth1 mtu 9000
ip link set dev eth1 up
ip link add name vcbr-56608010 type bridge NF_OFF
ip link set dev vcbr-56608010 mtu 1499
ip link set dev vcbr-56608010 mtu 1500
ip link set dev vcbr-56608010 alias "vcube network lan"
ip link set dev eth1 master vcbr-56608010
ip link set dev vcbr-56608010 up
ip link add name vcbr-01ca9a66 type bridge NF_OFF
ip link set dev vcbr-01ca9a66 mtu 9000
ip link set dev vcbr-01ca9a66 alias "vcube network storage"
ip link add link eth1 name vcvlan-20 mtu 9000 type vlan id 20
ip link set dev vcvlan-20 master vcbr-01ca9a66
ip link set dev vcvlan-20 up
ip link set dev vcbr-01ca9a66 up
ip link add name vcbr-2be2e301 type bridge NF_OFF
ip link set dev vcbr-2be2e301 mtu 1499
ip link set dev vcbr-2be2e301 mtu 1500
ip link set dev vcbr-2be2e301 alias "vcube network wan"
ip link add link eth1 name vcvlan-10 mtu 1500 type vlan id 10
ip link set dev vcvlan-10 master vcbr-2be2e301
ip link set dev vcvlan-10 up
ip link set dev vcbr-2be2e301 up
)";
  for (auto at = expected.find("NF_OFF"); at != std::string::npos; at = expected.find("NF_OFF"))
    expected.replace(at, 6, nf_off);
  EXPECT_EQ(transcript(plan), expected);
}

TEST(network_plan, plans_nothing_when_the_node_is_already_right) {
  link_map node = applied(three_networks());
  auto again = plan_networks(three_networks(), "eth1", node);
  EXPECT_EQ(transcript(again), "");
  EXPECT_TRUE(again.problems.empty());
}

TEST(network_plan, moves_a_network_to_its_new_vlan) {
  link_map node = applied(three_networks());
  auto networks = three_networks();
  networks[0].vlan = 30;  // wan
  auto plan = plan_networks(networks, "eth1", node);
  EXPECT_EQ(transcript(plan),
            "ip link delete dev vcvlan-10\n"
            "ip link add link eth1 name vcvlan-30 mtu 1500 type vlan id 30\n"
            "ip link set dev vcvlan-30 master vcbr-2be2e301\n"
            "ip link set dev vcvlan-30 up\n");
  apply_commands(node, plan.commands);
  EXPECT_EQ(transcript(plan_networks(networks, "eth1", node)), "");
}

TEST(network_plan, removes_the_bridge_and_vlan_of_a_removed_network_only) {
  link_map node = applied(three_networks());
  node["br0"] = make_link("br0", "bridge");
  node["vcbr-custom"] = make_link("vcbr-custom", "bridge");
  node["eth1.10"] = make_link("eth1.10", "vlan");
  node["eth1.10"].parent = "eth1";
  node["eth1.10"].vlan_id = 10;
  auto networks = three_networks();
  networks.erase(networks.begin());  // wan
  auto plan = plan_networks(networks, "eth1", node);
  EXPECT_EQ(transcript(plan),
            "ip link delete dev vcbr-2be2e301\n"
            "ip link delete dev vcvlan-10\n");
}

TEST(network_plan, applies_a_changed_mtu_to_uplink_bridge_port_and_taps) {
  link_map node = applied(three_networks());
  std::string tap = tap_name("web", 0);
  node[tap] = tap_on(tap, "vcbr-01ca9a66", 9000);
  auto networks = three_networks();
  networks[2].mtu = 4000;  // storage: now no network needs 9000
  auto plan = plan_networks(networks, "eth1", node);
  EXPECT_EQ(transcript(plan),
            "ip link set dev eth1 mtu 4000\n"
            "ip link set dev vcvlan-20 mtu 4000\n"
            "ip link set dev " +
                tap +
                " mtu 4000\n"
                "ip link set dev vcbr-01ca9a66 mtu 4000\n");
  apply_commands(node, plan.commands);
  EXPECT_EQ(transcript(plan_networks(networks, "eth1", node)), "");
}

TEST(network_plan, refuses_a_second_untagged_network_and_keeps_the_first) {
  link_map node = applied(three_networks());
  auto networks = three_networks();
  networks.push_back({"aaa", 0, 1500});  // first by name, but lan holds the uplink
  auto plan = plan_networks(networks, "eth1", node);
  EXPECT_EQ(transcript(plan), "");
  ASSERT_EQ(plan.problems.size(), 1u);
  EXPECT_EQ(plan.problems[0].code, errc::conflict);
  EXPECT_EQ(plan.problems[0].message,
            "network 'aaa' is untagged (vlan 0) like network 'lan', and only one untagged "
            "network can use the vm uplink 'eth1'; give one of them a VLAN");
}

TEST(network_plan, refuses_a_second_network_on_one_vlan) {
  auto plan = plan_networks({{"a", 10, 1500}, {"b", 10, 1500}}, "eth1", links_of({nic("eth1")}));
  ASSERT_EQ(plan.problems.size(), 1u);
  EXPECT_NE(plan.problems[0].message.find("network 'b' uses vlan 10 like network 'a'"),
            std::string::npos)
      << plan.problems[0].message;
  EXPECT_EQ(transcript(plan).find(bridge_name("b")), std::string::npos);
}

TEST(network_plan, without_an_uplink_makes_bridges_of_this_node_only) {
  auto plan = plan_networks(three_networks(), "", links_of({nic("eth1")}));
  EXPECT_TRUE(plan.problems.empty());
  EXPECT_EQ(transcript(plan).find("eth1"), std::string::npos) << transcript(plan);
  EXPECT_EQ(transcript(plan).find("vlan"), std::string::npos) << transcript(plan);
  link_map node = links_of({nic("eth1")});
  apply_commands(node, plan.commands);
  EXPECT_EQ(node.size(), 4u);
  EXPECT_EQ(transcript(plan_networks(three_networks(), "", node)), "");
}

TEST(network_plan, says_when_the_uplink_is_missing_and_still_makes_the_bridges) {
  auto plan = plan_networks(three_networks(), "eth9", links_of({nic("eth1")}));
  ASSERT_EQ(plan.problems.size(), 1u);
  EXPECT_EQ(plan.problems[0].field, "vm_uplink");
  EXPECT_NE(plan.problems[0].message.find("'eth9'"), std::string::npos);
  EXPECT_NE(transcript(plan).find("ip link add name vcbr-56608010"), std::string::npos);
}

TEST(network_plan, refuses_an_uplink_that_another_bridge_holds) {
  link_map node = links_of({nic("eth1"), make_link("br0", "bridge")});
  node["eth1"].master = "br0";
  auto plan = plan_networks({{"lan", 0, 1500}, {"wan", 10, 1500}}, "eth1", node);
  ASSERT_EQ(plan.problems.size(), 1u);
  EXPECT_NE(plan.problems[0].message.find("port of bridge 'br0'"), std::string::npos);
  EXPECT_EQ(transcript(plan).find("eth1 master"), std::string::npos) << transcript(plan);
  EXPECT_NE(transcript(plan).find("vcvlan-10 master"), std::string::npos) << transcript(plan);
}

TEST(network_plan, moves_everything_to_a_new_uplink) {
  link_map node = applied(three_networks(), links_of({nic("eth1"), nic("eth2")}));
  auto plan = plan_networks(three_networks(), "eth2", node);
  apply_commands(node, plan.commands);
  EXPECT_EQ(node.at("eth1").master, "");
  EXPECT_EQ(node.at("eth2").master, bridge_name("lan"));
  EXPECT_EQ(node.at("vcvlan-10").parent, "eth2");
  EXPECT_EQ(node.at("vcvlan-20").parent, "eth2");
  EXPECT_EQ(transcript(plan_networks(three_networks(), "eth2", node)), "");
}

TEST(network_plan, keeps_taps_and_detaches_strangers_from_its_bridges) {
  link_map node = applied(three_networks());
  std::string tap = tap_name("web", 0);
  node[tap] = tap_on(tap, "vcbr-56608010", 1500);
  node["veth7"] = make_link("veth7", "veth");
  node["veth7"].master = "vcbr-56608010";
  node["vcbr-56608010"].calls_iptables = true;
  auto plan = plan_networks(three_networks(), "eth1", node);
  EXPECT_EQ(transcript(plan), std::string("ip link set dev veth7 nomaster\n"
                                          "ip link set dev vcbr-56608010 type bridge ") +
                                  nf_off + "\n");
}

TEST(network_plan, refuses_invalid_networks_and_names_stay_within_fifteen_bytes) {
  std::vector<network> networks = {
      {"bad-vlan", 4095, 1500}, {"bad-mtu", 5, 100}, {std::string(200, 'n'), 7, 1500}};
  auto plan = plan_networks(networks, "eth1", links_of({nic("eth1")}));
  EXPECT_EQ(plan.problems.size(), 2u);
  EXPECT_FALSE(plan.commands.empty());
  for (const auto& argv : plan.commands) {
    for (const char* key : {"dev", "name", "master", "link"}) {
      EXPECT_LE(testing::arg_after(argv, key).size(), interface_name_bytes_max)
          << format_command(argv);
    }
  }
}

}  // namespace
}  // namespace vcube::vswitch
