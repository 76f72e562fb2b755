#include <gtest/gtest.h>

#include <sstream>

#include "cli/commands.h"
#include "cli/table.h"
#include "cli/vm_commands.h"
#include "env/process.h"

namespace vcube::cli {
namespace {

TEST(VmOptions, DiskAndNicSpecs) {
  auto disk = parse_disk_option("web/disk0.raw,size=2048,bus=virtio-scsi,readonly");
  ASSERT_TRUE(disk.ok());
  EXPECT_EQ(*disk, json({{"image", "web/disk0.raw"},
                         {"size_mib", 2048},
                         {"bus", "virtio-scsi"},
                         {"readonly", true}}));
  EXPECT_FALSE(parse_disk_option("x.raw,size=big").ok());
  EXPECT_FALSE(parse_disk_option("x.raw,speed=1").ok());
  EXPECT_FALSE(parse_disk_option(",size=1").ok());
  auto nic = parse_nic_option("lan,mac=52:54:00:00:00:01");
  ASSERT_TRUE(nic.ok());
  EXPECT_EQ(*nic, json({{"network", "lan"}, {"mac", "52:54:00:00:00:01"}}));
}

TEST(Assignment, ParsesJsonValuesAndFallsBackToStrings) {
  auto number = parse_assignment("mtu=9000");
  ASSERT_TRUE(number.ok());
  EXPECT_EQ(number->first, "mtu");
  EXPECT_EQ(number->second, json(9000));
  auto list = parse_assignment(R"(dns_servers=["192.0.2.53"])");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->second.is_array());
  auto text = parse_assignment("cidr=192.0.2.0/24");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->second, json("192.0.2.0/24"));
  auto with_equals = parse_assignment("description=a=b");
  ASSERT_TRUE(with_equals.ok());
  EXPECT_EQ(with_equals->second, json("a=b"));
}

TEST(Assignment, RefusesMissingKey) {
  EXPECT_FALSE(parse_assignment("novalue").ok());
  EXPECT_FALSE(parse_assignment("=x").ok());
}

TEST(Table, AlignsColumns) {
  table t({"ID", "NODE"});
  t.add({"1", "first"});
  t.add({"10", "n"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(), "ID  NODE\n1   first\n10  n\n");
}

// A pid file's process counts as running vcubed only while it is one
// (cluster_setup's `vcube service start`).
TEST(Services, ALiveVcubedIsNeitherAZombieNorAnotherProgram) {
  EXPECT_TRUE(env::is_live_stat("4242 (vcubed) S 1 4242 4242 0 -1 4194560", "vcubed"));
  EXPECT_TRUE(env::is_live_stat("4242 (vcubed) R 1", "vcubed"));
  EXPECT_FALSE(env::is_live_stat("4242 (vcubed) Z 1 4242", "vcubed"));
  EXPECT_FALSE(env::is_live_stat("4242 (vcubed) X 1", "vcubed"));
  EXPECT_FALSE(env::is_live_stat("4242 (sshd) S 1", "vcubed"));        // the pid was reused
  EXPECT_FALSE(env::is_live_stat("4242 (a (vcubed)) S 1", "vcubed"));  // parentheses in a name
  EXPECT_FALSE(env::is_live_stat("4242 (vcubed)", "vcubed"));
  EXPECT_FALSE(env::is_live_stat("", "vcubed"));
  EXPECT_TRUE(env::is_live_stat("4242 (sshd) S 1"));  // any command
  EXPECT_FALSE(env::is_live_stat("4242 (sshd) Z 1"));
}

}  // namespace
}  // namespace vcube::cli
