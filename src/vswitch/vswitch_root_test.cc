// The virtual switch for real: ip commands in a network namespace of the
// test's own (vcube-vsw-test-<pid>), with a veth end as the vm uplink (this
// kind of kernel may lack the dummy link type). Needs root; skips otherwise.
// VLAN cases also need the kernel's 802.1Q support and skip without it.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "env/process.h"
#include "vswitch/names.h"
#include "vswitch/network_plan.h"
#include "vswitch/vswitch.h"

namespace vcube::vswitch {
namespace {

using namespace std::chrono_literals;

const std::string uplink = "up0";

bool ip_ok(const std::vector<std::string>& argv) {
  auto r = env::run(argv, {}, 10s);
  return r && r->exit_code == 0;
}

link_map links_now() {
  auto links = read_links();
  EXPECT_TRUE(links.ok()) << links.err().message;
  return links.ok() ? *links : link_map{};
}

// What is still to do for `networks`: nothing, once reconciled.
std::string remaining_plan(const std::vector<network>& networks) {
  auto plan = plan_networks(networks, uplink, links_now());
  return format_commands(plan.commands);
}

// Moves this thread (and so every ip it forks) into a fresh namespace.
class vswitch_in_namespace : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root (creates a network namespace and links)";
    name_ = "vcube-vsw-test-" + std::to_string(getpid());
    if (!ip_ok({"ip", "netns", "add", name_}))
      GTEST_SKIP() << "cannot create network namespace " << name_ << " here";
    home_fd_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(setns(fd, CLONE_NEWNET), 0);
    close(fd);
    entered_ = true;
    ASSERT_TRUE(ip_ok({"ip", "link", "add", uplink, "type", "veth", "peer", "name", "up0p"}));
  }
  void TearDown() override {
    if (entered_) {
      EXPECT_EQ(setns(home_fd_, CLONE_NEWNET), 0);
      close(home_fd_);
    }
    if (!name_.empty()) {
      EXPECT_TRUE(ip_ok({"ip", "netns", "delete", name_}));
    }
  }
  bool has_vlan_support() {
    bool ok = ip_ok(
        {"ip", "link", "add", "link", uplink, "name", "vsw-probe", "type", "vlan", "id", "99"});
    if (ok) {
      EXPECT_TRUE(ip_ok({"ip", "link", "delete", "vsw-probe"}));
    }
    return ok;
  }

  std::string name_;
  int home_fd_ = -1;
  bool entered_ = false;
};

TEST_F(vswitch_in_namespace, untagged_network_bridges_the_uplink_and_carries_taps) {
  std::vector<network> networks = {{"lan", 0, 9000}};
  auto done = reconcile_networks(networks, uplink);
  ASSERT_TRUE(done.ok()) << done.err().message;
  auto links = links_now();
  const link& bridge = links.at(bridge_name("lan"));
  EXPECT_EQ(bridge.kind, "bridge");
  EXPECT_TRUE(bridge.is_up);
  EXPECT_EQ(bridge.mtu, 9000);
  EXPECT_FALSE(bridge.calls_iptables);
  EXPECT_EQ(bridge.alias, "vcube network lan");
  EXPECT_EQ(links.at(uplink).master, bridge_name("lan"));
  EXPECT_EQ(links.at(uplink).mtu, 9000);
  EXPECT_EQ(remaining_plan(networks), "");

  auto tap = create_tap("web", 0, networks[0]);
  ASSERT_TRUE(tap.ok()) << tap.err().message;
  EXPECT_EQ(*tap, tap_name("web", 0));
  ASSERT_TRUE(create_tap("web", 0, networks[0]).ok());  // again: a no-op
  links = links_now();
  EXPECT_TRUE(links.at(*tap).is_tap);
  EXPECT_TRUE(links.at(*tap).is_up);
  EXPECT_EQ(links.at(*tap).master, bridge_name("lan"));
  EXPECT_EQ(links.at(*tap).mtu, 9000);

  networks[0].mtu = 1500;
  ASSERT_TRUE(reconcile_networks(networks, uplink).ok());
  links = links_now();
  EXPECT_EQ(links.at(*tap).mtu, 1500);
  EXPECT_EQ(links.at(bridge_name("lan")).mtu, 1500);
  EXPECT_EQ(remaining_plan(networks), "");

  ASSERT_TRUE(remove_taps("web").ok());
  EXPECT_EQ(links_now().count(*tap), 0u);
  ASSERT_TRUE(reconcile_networks({}, uplink).ok());
  links = links_now();
  EXPECT_EQ(links.count(bridge_name("lan")), 0u);
  EXPECT_EQ(links.count(uplink), 1u);  // the uplink is never deleted
}

TEST_F(vswitch_in_namespace, refuses_a_second_untagged_network_and_leaves_strangers_alone) {
  ASSERT_TRUE(ip_ok({"ip", "link", "add", "br0", "type", "bridge"}));
  auto done = reconcile_networks({{"lan", 0, 1500}, {"wan", 0, 1500}}, uplink);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.err().code, errc::conflict);
  EXPECT_NE(done.err().message.find("network 'wan' is untagged"), std::string::npos)
      << done.err().message;
  auto links = links_now();
  EXPECT_EQ(links.count(bridge_name("lan")), 1u);
  EXPECT_EQ(links.count(bridge_name("wan")), 0u);
  ASSERT_TRUE(reconcile_networks({}, uplink).ok());
  EXPECT_EQ(links_now().count("br0"), 1u);
  EXPECT_EQ(links_now().count(bridge_name("lan")), 0u);
}

// The kernel moves an unpinned bridge's MTU to its ports' smallest.
TEST_F(vswitch_in_namespace, a_bridge_keeps_its_network_mtu_when_the_uplink_grows) {
  std::vector<network> networks = {{"lan", 0, 1500}};
  ASSERT_TRUE(reconcile_networks(networks, uplink).ok());
  ASSERT_TRUE(ip_ok({"ip", "link", "set", "dev", uplink, "mtu", "9000"}));
  EXPECT_EQ(links_now().at(bridge_name("lan")).mtu, 1500);
  EXPECT_EQ(remaining_plan(networks), "ip link set dev up0 mtu 1500\n");
}

TEST_F(vswitch_in_namespace, a_tap_needs_its_network_bridge) {
  auto tap = create_tap("web", 0, {"lan", 0, 1500});
  ASSERT_FALSE(tap.ok());
  EXPECT_EQ(tap.err().code, errc::unavailable);
  ASSERT_TRUE(reconcile_networks({{"lan", 0, 1500}}, uplink).ok());
  auto taps = create_taps("web", {{"lan", 0, 1500}, {"lan", 0, 1500}, {"gone", 0, 1500}});
  ASSERT_FALSE(taps.ok());
  EXPECT_EQ(links_now().count(tap_name("web", 0)), 0u);  // rolled back
}

TEST_F(vswitch_in_namespace, vlan_networks_get_vlan_ports_on_the_uplink) {
  if (!has_vlan_support())
    GTEST_SKIP() << "this kernel has no 802.1Q VLAN support (ip link add ... type vlan fails)";
  std::vector<network> networks = {{"lan", 0, 1500}, {"wan", 10, 1500}};
  auto done = reconcile_networks(networks, uplink);
  ASSERT_TRUE(done.ok()) << done.err().message;
  auto links = links_now();
  EXPECT_EQ(links.at("vcvlan-10").vlan_id, 10);
  EXPECT_EQ(links.at("vcvlan-10").parent, uplink);
  EXPECT_EQ(links.at("vcvlan-10").master, bridge_name("wan"));
  networks[1].vlan = 20;
  ASSERT_TRUE(reconcile_networks(networks, uplink).ok());
  links = links_now();
  EXPECT_EQ(links.count("vcvlan-10"), 0u);
  EXPECT_EQ(links.at("vcvlan-20").master, bridge_name("wan"));
  EXPECT_EQ(remaining_plan(networks), "");
}

TEST_F(vswitch_in_namespace, a_missing_vlan_support_is_explained) {
  if (has_vlan_support())
    GTEST_SKIP() << "this kernel supports VLANs";
  auto done = reconcile_networks({{"wan", 10, 1500}}, uplink);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.err().message.find("802.1Q"), std::string::npos) << done.err().message;
}

}  // namespace
}  // namespace vcube::vswitch
