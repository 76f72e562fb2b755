#include "lab/subnet.h"

#include <gtest/gtest.h>

namespace vcube::lab {
namespace {

ipv4_subnet net(const std::string& text) {
  auto r = parse_subnet(text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : ipv4_subnet{};
}

TEST(lab_subnet, parses_and_formats) {
  auto s = net("10.231.77.0/24");
  EXPECT_EQ(s.network, 0x0ae74d00u);
  EXPECT_EQ(s.prefix_length, 24);
  EXPECT_EQ(format_subnet(s), "10.231.77.0/24");
  EXPECT_EQ(net("192.0.2.7").prefix_length, 32);
  EXPECT_EQ(format_ipv4(0xffffffffu), "255.255.255.255");
}

TEST(lab_subnet, rejects_malformed_text) {
  for (const char* bad :
       {"", "10.231.77", "10.231.77.0/", "10.231.77.0/33", "256.1.1.1/24", "10.231.77.0/24x",
        "a.b.c.d/8", "10..77.0/24", "10.231.77.0.1/24", "1234.1.1.1/8"}) {
    auto r = parse_subnet(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.err().field, "subnet");
  }
}

TEST(lab_subnet, host_bits_are_refused_but_can_be_masked) {
  auto r = parse_subnet("10.231.77.5/24");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("10.231.77.0/24"), std::string::npos);
  EXPECT_EQ(parse_network_of("10.231.77.5/24").value(), net("10.231.77.0/24"));
}

TEST(lab_subnet, addresses_of_host_and_nodes) {
  auto s = net("10.231.77.0/24");
  EXPECT_EQ(host_address(s), "10.231.77.1");
  EXPECT_EQ(node_address(s, 1), "10.231.77.11");
  EXPECT_EQ(node_address(s, 9), "10.231.77.19");
}

TEST(lab_subnet, overlap_is_containment_either_way) {
  EXPECT_TRUE(subnets_overlap(net("10.231.77.0/24"), net("10.0.0.0/8")));
  EXPECT_TRUE(subnets_overlap(net("10.0.0.0/8"), net("10.231.77.0/24")));
  EXPECT_TRUE(subnets_overlap(net("10.231.77.0/24"), net("10.231.77.200")));
  EXPECT_TRUE(subnets_overlap(net("10.231.77.0/24"), net("0.0.0.0/0")));
  EXPECT_FALSE(subnets_overlap(net("10.231.77.0/24"), net("10.231.78.0/24")));
  EXPECT_FALSE(subnets_overlap(net("10.231.77.0/25"), net("10.231.77.128/25")));
  EXPECT_FALSE(subnets_overlap(net("10.231.77.0/24"), net("192.0.2.2")));
}

TEST(lab_subnet, must_hold_every_node) {
  EXPECT_TRUE(check_lab_subnet(net("10.231.77.0/24"), 9).ok());
  EXPECT_TRUE(check_lab_subnet(net("10.231.77.0/27"), 9).ok());
  EXPECT_FALSE(check_lab_subnet(net("10.231.77.0/28"), 9).ok());
  EXPECT_TRUE(check_lab_subnet(net("10.231.77.0/28"), 3).ok());   // .13 < .15
  EXPECT_FALSE(check_lab_subnet(net("10.231.77.0/28"), 5).ok());  // .15 is broadcast
  EXPECT_FALSE(check_lab_subnet(net("10.0.0.0/7"), 3).ok());
}

}  // namespace
}  // namespace vcube::lab
