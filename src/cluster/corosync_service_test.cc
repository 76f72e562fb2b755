#include "cluster/corosync_service.h"

#include <gtest/gtest.h>

namespace vcube::cluster {
namespace {

TEST(corosync_service, authkey_is_full_length_and_random) {
  std::string a = generate_authkey();
  std::string b = generate_authkey();
  EXPECT_EQ(a.size(), corosync_authkey_bytes);
  EXPECT_EQ(b.size(), corosync_authkey_bytes);
  EXPECT_NE(a, b);
}

TEST(corosync_service, refuses_an_empty_authkey_before_touching_files) {
  auto s = write_corosync_files("totem {\n}\n", "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, errc::invalid_input);
}

}  // namespace
}  // namespace vcube::cluster
