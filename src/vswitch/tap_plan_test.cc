#include "vswitch/tap_plan.h"

#include <gtest/gtest.h>

#include "vswitch/names.h"
#include "vswitch/network_plan.h"
#include "vswitch/test_links.h"

namespace vcube::vswitch {
namespace {

using testing::apply_commands;
using testing::links_of;
using testing::nic;

const network lan{"lan", 0, 9000};

link_map node_with_lan() {
  link_map node = links_of({nic("eth1")});
  apply_commands(node, plan_networks({lan}, "eth1", node).commands);
  return node;
}

TEST(tap_plan, creates_the_tap_on_the_network_bridge) {
  link_map node = node_with_lan();
  auto plan = plan_tap("web", 1, lan, node);
  ASSERT_TRUE(plan.ok()) << plan.err().message;
  EXPECT_EQ(format_commands(*plan),
            "ip tuntap add dev vctap-724dbb76 mode tap\n"
            "ip link set dev vctap-724dbb76 alias \"vcube vm web nic 1\"\n"
            "ip link set dev vctap-724dbb76 mtu 9000\n"
            "ip link set dev vctap-724dbb76 master vcbr-56608010\n"
            "ip link set dev vctap-724dbb76 up\n");
  apply_commands(node, *plan);
  auto again = plan_tap("web", 1, lan, node);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << format_commands(*again);
}

TEST(tap_plan, refuses_without_a_bridge_a_bad_index_or_a_name_taken) {
  auto no_bridge = plan_tap("web", 0, lan, links_of({nic("eth1")}));
  ASSERT_FALSE(no_bridge.ok());
  EXPECT_EQ(no_bridge.err().code, errc::unavailable);
  EXPECT_NE(no_bridge.err().message.find("network 'lan' has no bridge"), std::string::npos);
  link_map node = node_with_lan();
  EXPECT_EQ(plan_tap("web", nics_per_vm_max, lan, node).err().code, errc::invalid_input);
  EXPECT_EQ(plan_tap("web", -1, lan, node).err().code, errc::invalid_input);
  node[tap_name("web", 0)] = nic(tap_name("web", 0));
  EXPECT_EQ(plan_tap("web", 0, lan, node).err().code, errc::conflict);
}

TEST(tap_plan, removes_exactly_the_vms_taps) {
  link_map node = node_with_lan();
  for (int i : {0, 3})
    apply_commands(node, plan_tap("web", i, lan, node).value());
  apply_commands(node, plan_tap("db", 0, lan, node).value());
  auto plan = plan_remove_taps("web", node);
  EXPECT_EQ(format_commands(plan), "ip link delete dev " + tap_name("web", 0) +
                                       "\nip link delete dev " + tap_name("web", 3) + "\n");
  apply_commands(node, plan);
  EXPECT_TRUE(plan_remove_taps("web", node).empty());
  EXPECT_EQ(node.count(tap_name("db", 0)), 1u);
}

}  // namespace
}  // namespace vcube::vswitch
