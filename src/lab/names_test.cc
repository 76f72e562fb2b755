#include "lab/names.h"

#include <gtest/gtest.h>

namespace vcube::lab {
namespace {

TEST(lab_names, node_objects_carry_the_lab_prefix) {
  EXPECT_EQ(node_name(2), "n2");
  EXPECT_EQ(netns_name(2), "vcube-lab-n2");
  EXPECT_EQ(veth_name(9), "vcube-lab-n9");
  EXPECT_EQ(mount_ns_file(3), "/run/vcube-lab/n3.mnt");
  EXPECT_EQ(node_data_dir(1), "/var/lib/vcube-lab/n1");
  EXPECT_TRUE(is_lab_name(bridge_name));
  EXPECT_TRUE(is_lab_name(netns_name(4)));
  EXPECT_FALSE(is_lab_name("eth0"));
  EXPECT_FALSE(is_lab_name("vcube-la"));
}

TEST(lab_names, interface_names_fit_the_kernel_limit) {
  EXPECT_LE(veth_name(nodes_max).size(), 15u);
  EXPECT_LE(std::string(bridge_name).size(), 15u);
}

TEST(lab_names, node_argument_accepts_number_or_name) {
  EXPECT_EQ(parse_node_argument("2", 3).value(), 2);
  EXPECT_EQ(parse_node_argument("n3", 3).value(), 3);
  EXPECT_EQ(parse_node_argument("n9", 0).value(), 9);
}

TEST(lab_names, node_argument_rejects_the_rest) {
  for (const char* bad : {"", "n", "0", "n0", "4", "n4", "x2", "2x", "-1", "n 2", "nn2", "02x"}) {
    auto r = parse_node_argument(bad, 3);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.err().code, errc::invalid_input);
    EXPECT_EQ(r.err().field, "node");
  }
  EXPECT_FALSE(parse_node_argument("10", 0).ok());
}

}  // namespace
}  // namespace vcube::lab
