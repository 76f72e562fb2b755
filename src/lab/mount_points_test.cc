#include <gtest/gtest.h>

#include "lab/host_probe.h"

namespace vcube::lab {
namespace {

TEST(lab_mount_points, parses_mountinfo_and_decodes_escapes) {
  std::string text =
      "22 1 0:21 / /run rw,nosuid shared:5 - tmpfs tmpfs rw\n"
      "812 22 254:0 /run/vcube-lab /run/vcube-lab rw - ext4 /dev/vda rw\n"
      "813 812 0:4 mnt:[4026532481] /run/vcube-lab/n1.mnt rw - nsfs nsfs rw\n"
      "900 22 0:50 / /mnt/with\\040space rw - tmpfs tmpfs rw\n";
  EXPECT_EQ(parse_mount_points(text),
            (std::vector<std::string>{"/run", "/run/vcube-lab", "/run/vcube-lab/n1.mnt",
                                      "/mnt/with space"}));
}

TEST(lab_mount_points, tolerates_short_lines) {
  EXPECT_TRUE(parse_mount_points("1 2 3\n\n").empty());
}

}  // namespace
}  // namespace vcube::lab
