#include "lab/vm_segment.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "env/files.h"
#include "env/node_config.h"
#include "lab/names.h"

namespace vcube::lab {
namespace {

TEST(lab_vm_segment, names_fit_and_carry_the_lab_prefix) {
  EXPECT_EQ(vm_veth_name(2), "vcube-lab-n2vm");
  EXPECT_LE(vm_veth_name(nodes_max).size(), 15u);
  EXPECT_TRUE(is_lab_name(vm_bridge_name));
  EXPECT_TRUE(is_lab_name(vm_veth_name(1)));
}

TEST(lab_vm_segment, the_lab_subnet_must_stay_apart) {
  EXPECT_TRUE(check_vm_segment_apart(parse_subnet("10.231.77.0/24").value()).ok());
  auto overlap = check_vm_segment_apart(parse_subnet("10.231.78.128/25").value());
  ASSERT_FALSE(overlap.ok());
  EXPECT_EQ(overlap.err().field, "subnet");
  EXPECT_NE(overlap.err().message.find("VM segment 10.231.78.0/24"), std::string::npos);
  EXPECT_FALSE(check_vm_segment_apart(parse_subnet("10.0.0.0/8").value()).ok());
}

TEST(lab_vm_segment, adds_the_uplink_to_node_json_keeping_the_rest) {
  std::string dir = ::testing::TempDir() + "vm-segment-" + std::to_string(getpid());
  ASSERT_TRUE(env::make_directories(dir, 0700).ok());
  std::string path = dir + "/node.json";
  node_config node{2, "n2", "10.231.77.12", "lab"};
  ASSERT_TRUE(write_node_config(path, node).ok());
  auto added = add_vm_uplink(path);
  ASSERT_TRUE(added.ok()) << added.err().message;
  auto read = read_node_config(path);
  ASSERT_TRUE(read.ok()) << read.err().message;
  EXPECT_EQ(read->vm_uplink, "vmup");
  EXPECT_EQ(read->name, "n2");
  EXPECT_EQ(read->node_id, 2u);
  EXPECT_FALSE(add_vm_uplink(dir + "/missing.json").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vcube::lab
