#include "lab/lab_state.h"

#include <gtest/gtest.h>

namespace vcube::lab {
namespace {

TEST(lab_state, round_trips_and_derives_addresses) {
  lab_state state;
  state.nodes = 3;
  state.subnet = "10.231.77.0/24";
  state.password_file = "/var/lib/vcube-lab/admin-password";
  state.vcube_exe = "/usr/bin/vcube";
  auto back = lab_state_from_json(lab_state_to_json(state));
  ASSERT_TRUE(back.ok()) << back.err().message;
  EXPECT_EQ(back->nodes, 3);
  EXPECT_EQ(back->subnet, "10.231.77.0/24");
  EXPECT_EQ(back->password_file, state.password_file);
  EXPECT_EQ(back->vcube_exe, "/usr/bin/vcube");
  EXPECT_EQ(back->node_addresses,
            (std::vector<std::string>{"10.231.77.11", "10.231.77.12", "10.231.77.13"}));
}

TEST(lab_state, rejects_bad_content) {
  json good = {{"nodes", 2}, {"subnet", "10.0.0.0/24"}, {"password_file", "/p"}};
  EXPECT_TRUE(lab_state_from_json(good).ok());
  for (auto [key, value] : std::vector<std::pair<std::string, json>>{
           {"nodes", 1}, {"nodes", 10}, {"nodes", "3"}, {"subnet", "10.0.0.1/24"}, {"extra", 1}}) {
    json bad = good;
    bad[key] = value;
    EXPECT_FALSE(lab_state_from_json(bad).ok()) << bad.dump();
  }
  json missing = good;
  missing.erase("password_file");
  EXPECT_FALSE(lab_state_from_json(missing).ok());
}

}  // namespace
}  // namespace vcube::lab
