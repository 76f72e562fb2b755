#include "lab/host_networks.h"

#include <gtest/gtest.h>

namespace vcube::lab {
namespace {

// Trimmed from `ip -j -4 addr show` and `ip -j -4 route show table all` on a test host.
constexpr const char* addresses_json = R"([
 {"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
 {"ifindex":4,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24}]},
 {"ifindex":5,"ifname":"wg0","addr_info":[]},
 {"ifindex":6,"ifname":"br9"}])";

constexpr const char* routes_json = R"([
 {"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},
 {"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2"},
 {"type":"local","dst":"192.0.2.2","dev":"eth0","table":"local"},
 {"type":"unreachable","dst":"10.231.0.0/16","flags":[]}])";

ipv4_subnet net(const std::string& text) {
  return parse_subnet(text).value();
}

TEST(lab_host_networks, addresses_become_their_networks) {
  auto networks = parse_ip_addresses(addresses_json);
  ASSERT_TRUE(networks.ok());
  ASSERT_EQ(networks->size(), 2u);
  EXPECT_EQ((*networks)[1].subnet, net("192.0.2.0/24"));
  EXPECT_EQ((*networks)[1].source, "address 192.0.2.2/24 on eth0");
}

TEST(lab_host_networks, routes_without_the_default) {
  auto networks = parse_ip_routes(routes_json);
  ASSERT_TRUE(networks.ok());
  ASSERT_EQ(networks->size(), 3u);
  EXPECT_EQ((*networks)[0].subnet, net("192.0.2.0/24"));
  EXPECT_EQ((*networks)[1].subnet, net("192.0.2.2/32"));
  EXPECT_EQ((*networks)[2].source, "route 10.231.0.0/16");
}

TEST(lab_host_networks, finds_the_overlapping_one) {
  auto networks = parse_ip_routes(routes_json).value();
  auto overlap = find_overlap(net("10.231.77.0/24"), networks);
  ASSERT_TRUE(overlap.has_value());
  EXPECT_EQ(overlap->source, "route 10.231.0.0/16");
  EXPECT_FALSE(find_overlap(net("10.232.77.0/24"), networks).has_value());
}

TEST(lab_host_networks, empty_output_is_no_networks_and_garbage_an_error) {
  EXPECT_TRUE(parse_ip_routes("").value().empty());
  EXPECT_TRUE(parse_ip_addresses("[]").value().empty());
  EXPECT_FALSE(parse_ip_routes("{\"dst\":").ok());
  EXPECT_FALSE(parse_ip_addresses("{}").ok());
}

}  // namespace
}  // namespace vcube::lab
