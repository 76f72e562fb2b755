#include "cli/disk_commands.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli/vm_commands.h"

namespace vcube::cli {
namespace {

TEST(DiskCommands, SizesTakeUnits) {
  EXPECT_EQ(*parse_size_mib("512"), 512);
  EXPECT_EQ(*parse_size_mib("512M"), 512);
  EXPECT_EQ(*parse_size_mib("10G"), 10240);
  EXPECT_EQ(*parse_size_mib("2TiB"), 2 * 1024 * 1024);
  for (const char* bad : {"", "G", "10X", "-1G", "1.5G", "9999999999999G"}) {
    auto size = parse_size_mib(bad);
    ASSERT_FALSE(size) << bad;
    EXPECT_NE(size.err().message.find("--size"), std::string::npos);
  }
}

TEST(DiskCommands, AVmDiskOnAnEsanDisk) {
  auto disk = parse_disk_option("esan:db-data,bus=virtio-scsi");
  ASSERT_TRUE(disk);
  EXPECT_EQ(*disk, json({{"esan", "db-data"}, {"bus", "virtio-scsi"}}));
  EXPECT_FALSE(parse_disk_option("esan:db,size=10"));
}

TEST(DiskCommands, ListAndShowRenderBothSides) {
  json disk = {
      {"name", "db"},
      {"size_mib", 10240},
      {"nodes", {"n1", "n2"}},
      {"port", 7789},
      {"rate_mib", 0},
      {"state", "SyncSource 40%/SyncTarget 40%"},
      {"used_by", "vm1"},
      {"sides",
       {{{"node", "n1"},
         {"role", "primary"},
         {"connected", true},
         {"disk_state", "SyncSource"},
         {"percent", 40},
         {"out_of_sync_bytes", 3 << 20},
         {"verify", {{"state", "done"}, {"differing_regions", 2}, {"differing_bytes", 131072}}}},
        {{"node", "n2"}}}}};
  std::ostringstream list;
  render_disk_list(json::array({disk}), list);
  EXPECT_NE(list.str().find("10 GiB"), std::string::npos) << list.str();
  EXPECT_NE(list.str().find("n1,n2"), std::string::npos);
  EXPECT_NE(list.str().find("vm1"), std::string::npos);
  std::ostringstream show;
  render_disk(disk, show);
  EXPECT_NE(show.str().find("SyncSource 40%"), std::string::npos) << show.str();
  EXPECT_NE(show.str().find("3 MiB"), std::string::npos);
  EXPECT_NE(show.str().find("2 regions differ"), std::string::npos);
  EXPECT_NE(show.str().find("unlimited"), std::string::npos);
  EXPECT_NE(show.str().find("unknown"), std::string::npos);  // n2 has not reported
  EXPECT_EQ(show.str().find("outdated"), std::string::npos);
  disk["outdated"] = "n2";
  std::ostringstream outdated;
  render_disk(disk, outdated);
  EXPECT_NE(outdated.str().find("outdated  n2"), std::string::npos) << outdated.str();
}

}  // namespace
}  // namespace vcube::cli
